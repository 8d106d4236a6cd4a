import type { Colour } from "../colour.js";

/** One cumulative histogram bucket: requests that took at most `le` seconds (+Inf included). */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/** Latency quantiles in seconds; null when unknown. */
export interface Quantiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/**
 * Cumulative counters of one series (a replica, or the router) serving one colour, as read at one moment.
 * The sampler turns two readings into the numbers of the interval between them.
 */
export interface CounterSeries {
  readonly colour: Colour;
  /** Stable per series (replica id, "router"); counter resets are detected per key. */
  readonly key: string;
  readonly requests: number;
  readonly errors: number;
  /** Cumulative latency buckets, ascending; empty when the series has no histogram. */
  readonly buckets: readonly Bucket[];
  /** Quantiles the series reports itself (a summary, or JSON), when it has no histogram. */
  readonly quantiles: Quantiles | null;
  /** A gauge, read as it is; null when the source has none. */
  readonly saturation: number | null;
}

/** Numbers already derived by the source (a Prometheus server answering PromQL), per colour. */
export interface DerivedValues extends Quantiles {
  /** Requests per second. */
  readonly requestRate: number | null;
  /** Failed share of requests, 0..1. */
  readonly errorRate: number | null;
  readonly saturation: number | null;
}

export type SourceReading =
  | { readonly kind: "counters"; readonly series: readonly CounterSeries[] }
  | { readonly kind: "derived"; readonly values: Readonly<Record<Colour, DerivedValues | null>> };

/** Where per-colour metrics come from: the router, each replica's /metrics, or a Prometheus server. */
export interface MetricSource {
  /** For logs and reports: "router", "scrape", "prometheus". */
  readonly kind: string;
  /** One reading of every colour. Rejects when the source cannot be read at all. */
  read(signal: AbortSignal): Promise<SourceReading>;
}
