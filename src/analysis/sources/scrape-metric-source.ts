import { COLOURS, type Colour } from "../../colour.js";
import type { Endpoint } from "../../engine/ports/platform.js";
import { httpUrl } from "../../host-port.js";
import type { CounterSeries, MetricSource, SourceReading } from "../metric-source.js";
import { type CounterNames, countersFromText } from "./counters-from-text.js";
import { countersFromJson } from "./json-metrics.js";

/** The replicas of a colour that can be scraped now (usually the ready ones). */
export type ReplicaAddresses = (colour: Colour) => readonly Endpoint[];

/** What one replica answered on its metrics path, and where that was asked (for messages). */
export interface ScrapedPage {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/**
 * How a replica's metrics page is fetched: straight over HTTP on one machine; on Kubernetes through the API
 * server's pod proxy, so no network path from the runner to the pods is needed.
 */
export interface ReplicaFetcher {
  /** Where `path` of `endpoint` is asked, in words ("http://127.0.0.1:4001/metrics"). */
  where(endpoint: Endpoint, path: string): string;
  get(endpoint: Endpoint, path: string, signal: AbortSignal): Promise<ScrapedPage>;
}

/** The plain fetcher: GET http://host:port/path. */
export const httpFetcher: ReplicaFetcher = {
  where: (endpoint, path) => httpUrl(endpoint, path),
  async get(endpoint, path, signal) {
    const { request } = await import("undici"); // loaded by the first scrape, not at start
    const response = await request(httpFetcher.where(endpoint, path), {
      signal,
      headers: { accept: "text/plain;version=0.0.4, application/json;q=0.5" },
    });
    const text = await response.body.text();
    return { status: response.statusCode, contentType: String(response.headers["content-type"] ?? ""), text };
  },
};

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
  readonly #fetcher: ReplicaFetcher;

  constructor(replicas: ReplicaAddresses, options: ScrapeOptions, fetcher: ReplicaFetcher = httpFetcher) {
    this.#replicas = replicas;
    this.#options = options;
    this.#fetcher = fetcher;
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
    const where = this.#fetcher.where(endpoint, this.#options.path);
    let page: ScrapedPage;
    try {
      page = await this.#fetcher.get(
        endpoint,
        this.#options.path,
        AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      );
      if (page.status !== 200) throw new Error(`status ${page.status}`);
    } catch (error) {
      throw new ScrapeError(where, error instanceof Error ? error.message : String(error));
    }
    const { text, contentType: type } = page;
    const json =
      this.#options.format === "json" ||
      (this.#options.format === "auto" && (type.includes("json") || text.trimStart().startsWith("{")));
    const counters = json ? countersFromJson(text) : countersFromText(text, this.#options);
    return { colour, key: endpoint.id || where, ...counters };
  }
}
