import type { Bucket, Quantiles } from "../metric-source.js";
import { type PromSample, parseBound, parsePrometheusText } from "../prometheus-text.js";

/** Which metrics of an exposition hold the requests, errors, latency and saturation of a service. */
export interface CounterNames {
  /** Counter of requests; `name` and `name_total` both match. */
  readonly requests: string;
  /** Counter of failed requests; null counts requests whose status (or code) label starts with 5. */
  readonly errors: string | null;
  /** Histogram (name_bucket{le}) or summary (name{quantile}) of latency in seconds; null for none. */
  readonly latency: string | null;
  readonly saturation: string | null;
  /** Only samples with these label values count (a sample without the label is kept). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface Counters {
  readonly requests: number;
  readonly errors: number;
  readonly buckets: readonly Bucket[];
  readonly quantiles: Quantiles | null;
  readonly saturation: number | null;
}

/** Sums what `names` selects out of Prometheus exposition text (several replicas' worth may be concatenated). */
export function countersFromText(text: string, names: CounterNames): Counters {
  const samples = parsePrometheusText(text).flatMap((family) => family.samples);
  return countersFromSamples(samples, names);
}

export function countersFromSamples(all: readonly PromSample[], names: CounterNames): Counters {
  const samples = all.filter((s) => matches(s, names.labels) && Number.isFinite(s.value));
  const named = (name: string) => samples.filter((s) => s.name === name || s.name === `${name}_total`);
  const requestSamples = named(names.requests);
  const requests = sum(requestSamples);
  const errors =
    names.errors !== null
      ? sum(named(names.errors))
      : sum(requestSamples.filter((s) => isServerError(s.labels)));
  return {
    requests,
    errors,
    buckets:
      names.latency === null ? [] : buckets(samples.filter((s) => s.name === `${names.latency}_bucket`)),
    quantiles: names.latency === null ? null : quantiles(samples.filter((s) => s.name === names.latency)),
    saturation: names.saturation === null ? null : mean(samples.filter((s) => s.name === names.saturation)),
  };
}

function matches(sample: PromSample, labels: Readonly<Record<string, string>>): boolean {
  for (const [name, value] of Object.entries(labels)) {
    const actual = sample.labels[name];
    if (actual !== undefined && actual !== value) return false;
  }
  return true;
}

function isServerError(labels: Readonly<Record<string, string>>): boolean {
  const status = labels.status ?? labels.code ?? labels.status_code ?? "";
  return status.startsWith("5");
}

function buckets(samples: readonly PromSample[]): Bucket[] {
  const byBound = new Map<number, number>();
  for (const sample of samples) {
    const le = parseBound(sample.labels.le);
    if (le === undefined) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  return [...byBound.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

function quantiles(samples: readonly PromSample[]): Quantiles | null {
  const at = (q: string) =>
    mean(samples.filter((s) => s.labels.quantile !== undefined && Number(s.labels.quantile) === Number(q)));
  if (!samples.some((s) => s.labels.quantile !== undefined)) return null;
  return { p50: at("0.5"), p95: at("0.95"), p99: at("0.99") };
}

function sum(samples: readonly PromSample[]): number {
  return samples.reduce((total, s) => total + s.value, 0);
}

function mean(samples: readonly PromSample[]): number | null {
  return samples.length === 0 ? null : sum(samples) / samples.length;
}
