import { request } from "undici";
import { COLOURS, type Colour } from "../../colour.js";
import type { Endpoint } from "../../platforms/platform.js";
import type { CounterSeries, MetricSource, SourceReading } from "../metric-source.js";
import { type CounterNames, countersFromText } from "./counters-from-text.js";
import { countersFromJson } from "./json-metrics.js";

/** The replicas of a colour that can be scraped now (usually the ready ones). */
export type ReplicaAddresses = (colour: Colour) => readonly Endpoint[];

export interface ScrapeOptions extends CounterNames {
  readonly path: string;
  readonly format: "auto" | "prometheus" | "json";
  readonly timeoutMs: number;
}

/** A scrape that failed; says which replica and what to check. */
export class ScrapeError extends Error {
  constructor(url: string, detail: string) {
    super(
      `scraping ${url} failed: ${detail}; check that the service serves its metrics there (analysis.source.path)`,
    );
    this.name = "ScrapeError";
  }
}

/**
 * Scrapes each replica's own metrics endpoint (Prometheus text or the simple JSON shape) and adds the
 * replicas of a colour up. A replica that cannot be scraped is left out of that reading; when every
 * replica fails, the reading fails.
 */
export class ScrapeMetricSource implements MetricSource {
  readonly kind = "scrape";
  readonly #replicas: ReplicaAddresses;
  readonly #options: ScrapeOptions;

  constructor(replicas: ReplicaAddresses, options: ScrapeOptions) {
    this.#replicas = replicas;
    this.#options = options;
  }

  async read(signal: AbortSignal): Promise<SourceReading> {
    const targets = COLOURS.flatMap((colour) =>
      this.#replicas(colour).map((endpoint) => ({ colour, endpoint })),
    );
    const results = await Promise.allSettled(targets.map((t) => this.#scrape(t.colour, t.endpoint, signal)));
    const series = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (series.length === 0 && failed !== undefined) throw failed.reason;
    return { kind: "counters", series };
  }

  async #scrape(colour: Colour, endpoint: Endpoint, signal: AbortSignal): Promise<CounterSeries> {
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    const url = `http://${host}:${endpoint.port}${this.#options.path}`;
    let text: string;
    let type: string;
    try {
      const response = await request(url, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs)]),
        headers: { accept: "text/plain;version=0.0.4, application/json;q=0.5" },
      });
      text = await response.body.text();
      type = String(response.headers["content-type"] ?? "");
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    } catch (error) {
      throw new ScrapeError(url, error instanceof Error ? error.message : String(error));
    }
    const json =
      this.#options.format === "json" ||
      (this.#options.format === "auto" && (type.includes("json") || text.trimStart().startsWith("{")));
    const counters = json ? countersFromJson(text) : countersFromText(text, this.#options);
    return { colour, key: endpoint.id || `${host}:${endpoint.port}`, ...counters };
  }
}
