import type { Colour } from "../colour.js";
import type { MetricSourceConfig } from "../config/analysis-schema.js";
import { CutoverError } from "../errors.js";
import type { MetricSource } from "./metric-source.js";
import { PromqlMetricSource } from "./sources/promql-metric-source.js";
import { RouterMetricSource, type RouterMetricsText } from "./sources/router-metric-source.js";
import {
  type ReplicaAddresses,
  type ReplicaFetcher,
  ScrapeMetricSource,
} from "./sources/scrape-metric-source.js";

/** What a platform offers the analysis to read metrics from. */
export interface MetricSourceInputs {
  /** The built-in router's own metrics; null where there is none (Kubernetes). */
  readonly router: RouterMetricsText | null;
  /** The replicas of a colour to scrape (the ready ones). */
  readonly replicas: ReplicaAddresses;
  /** How a replica's metrics page is fetched; default: plain HTTP to host:port. */
  readonly fetcher?: ReplicaFetcher;
  /** The version a colour runs, for {{version}} in PromQL. */
  readonly versionOf: (colour: Colour) => string | null;
}

/** The metric source `analysis.source` names. */
export function createMetricSource(config: MetricSourceConfig, inputs: MetricSourceInputs): MetricSource {
  switch (config.type) {
    case "router":
      if (inputs.router === null)
        throw new CutoverError(
          "NO_ROUTER_METRICS",
          "analysis.source.type router needs the built-in router (platform: local); use scrape or prometheus",
        );
      return new RouterMetricSource(inputs.router);
    case "scrape":
      return new ScrapeMetricSource(
        inputs.replicas,
        {
          path: config.path,
          format: config.format,
          requests: config.requests,
          errors: config.errors,
          latency: config.latency,
          saturation: config.saturation,
          labels: config.labels,
          timeoutMs: config.timeout,
        },
        inputs.fetcher,
      );
    case "prometheus":
      return new PromqlMetricSource({
        url: config.url,
        queries: config.queries,
        timeoutMs: config.timeout,
        versionOf: inputs.versionOf,
      });
  }
}
