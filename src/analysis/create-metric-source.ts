import type { Colour } from "../colour.js";
import type { MetricSourceConfig } from "../config/analysis-schema.js";
import type { MetricSource } from "./metric-source.js";
import { PromqlMetricSource } from "./sources/promql-metric-source.js";
import { RouterMetricSource, type RouterMetricsText } from "./sources/router-metric-source.js";
import { type ReplicaAddresses, ScrapeMetricSource } from "./sources/scrape-metric-source.js";

export interface MetricSourceInputs {
  readonly router: RouterMetricsText;
  /** The replicas of a colour to scrape (the ready ones). */
  readonly replicas: ReplicaAddresses;
  /** The version a colour runs, for {{version}} in PromQL. */
  readonly versionOf: (colour: Colour) => string | null;
}

/** The metric source `analysis.source` names. */
export function createMetricSource(config: MetricSourceConfig, inputs: MetricSourceInputs): MetricSource {
  switch (config.type) {
    case "router":
      return new RouterMetricSource(inputs.router);
    case "scrape":
      return new ScrapeMetricSource(inputs.replicas, {
        path: config.path,
        format: config.format,
        requests: config.requests,
        errors: config.errors,
        latency: config.latency,
        saturation: config.saturation,
        labels: config.labels,
        timeoutMs: config.timeout,
      });
    case "prometheus":
      return new PromqlMetricSource({
        url: config.url,
        queries: config.queries,
        timeoutMs: config.timeout,
        versionOf: inputs.versionOf,
      });
  }
}
