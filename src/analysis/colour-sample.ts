import type { Colour } from "../colour.js";
import type { MetricName } from "../config/analysis-schema.js";
import { addBuckets, histogramQuantile } from "./histogram-quantile.js";
import type { Bucket } from "./metric-source.js";

/** What one colour did during one interval. Latencies in seconds; rates 0..1; null when unknown. */
export interface ColourSample {
  readonly colour: Colour;
  /** End of the interval, epoch milliseconds. */
  readonly at: number;
  readonly intervalMs: number;
  /** Requests answered in the interval. */
  readonly requests: number;
  readonly errors: number;
  readonly requestRate: number;
  /** null without requests. */
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly saturation: number | null;
  /** The interval's latency histogram (cumulative), when the source has one: windows merge these. */
  readonly buckets?: readonly Bucket[];
}

/** One sampler tick: both colours over the same interval. */
export interface SampleTick {
  readonly at: number;
  readonly samples: Readonly<Record<Colour, ColourSample>>;
}

/** The numbers of a span of samples of one colour, merged. */
export interface WindowSummary {
  readonly samples: number;
  readonly requests: number;
  readonly errors: number;
  readonly requestRate: number | null;
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly saturation: number | null;
}

/** The value of `metric` in a sample or a summary. */
export function metricValue(of: ColourSample | WindowSummary, metric: MetricName): number | null {
  return of[metric];
}

/**
 * Merges samples into one summary: counts add up; quantiles come from the summed histograms when every
 * sample has one, else they are the request-weighted mean of the samples' own quantiles.
 */
export function summarise(samples: readonly ColourSample[]): WindowSummary {
  let requests = 0;
  let errors = 0;
  let spanMs = 0;
  let buckets: Bucket[] = [];
  let allBuckets = samples.length > 0;
  for (const sample of samples) {
    requests += sample.requests;
    errors += sample.errors;
    spanMs += sample.intervalMs;
    if (sample.buckets === undefined || sample.buckets.length === 0) allBuckets = false;
    else buckets = addBuckets(buckets, sample.buckets);
  }
  const quantile = (q: number, key: "p50" | "p95" | "p99") =>
    allBuckets && requests > 0 ? histogramQuantile(q, buckets) : weightedMean(samples, key);
  return {
    samples: samples.length,
    requests,
    errors,
    requestRate: spanMs > 0 ? requests / (spanMs / 1000) : null,
    errorRate: requests > 0 ? errors / requests : null,
    p50: quantile(0.5, "p50"),
    p95: quantile(0.95, "p95"),
    p99: quantile(0.99, "p99"),
    saturation: plainMean(samples.map((s) => s.saturation)),
  };
}

function weightedMean(samples: readonly ColourSample[], key: "p50" | "p95" | "p99"): number | null {
  let weight = 0;
  let sum = 0;
  for (const sample of samples) {
    const value = sample[key];
    if (value === null || sample.requests <= 0) continue;
    weight += sample.requests;
    sum += value * sample.requests;
  }
  return weight > 0 ? sum / weight : null;
}

function plainMean(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}
