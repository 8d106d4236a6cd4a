import { COLOURS, type Colour } from "../colour.js";
import type { ColourSample } from "./colour-sample.js";
import { addBuckets, histogramQuantile, subtractBuckets } from "./histogram-quantile.js";
import type { Bucket, CounterSeries, DerivedValues, SourceReading } from "./metric-source.js";

/**
 * Turns successive readings of a metric source into per-interval samples of each colour. Counters are
 * differenced per series (a counter that went down was reset: the new value is the interval's), a series
 * seen for the first time gives nothing until its second reading, and the series of a colour are added up.
 */
export class IntervalSamples {
  #previous = new Map<string, CounterSeries>();
  #previousAt: number | null = null;

  /** Samples of both colours for the interval that ends at `at`; null for the first reading. */
  next(reading: SourceReading, at: number): Record<Colour, ColourSample> | null {
    const since = this.#previousAt;
    this.#previousAt = at;
    if (reading.kind === "derived") {
      if (since === null) return null;
      return byColour((colour) => fromDerived(colour, reading.values[colour], at, at - since));
    }
    const current = new Map(reading.series.map((s) => [`${s.colour}/${s.key}`, s]));
    const previous = this.#previous;
    this.#previous = current;
    if (since === null) return null;
    return byColour((colour) => {
      const deltas = reading.series
        .filter((s) => s.colour === colour)
        .flatMap((s) => {
          const before = previous.get(`${colour}/${s.key}`);
          return before === undefined ? [] : [delta(s, before)];
        });
      return fromDeltas(colour, deltas, at, at - since);
    });
  }
}

interface SeriesDelta {
  readonly requests: number;
  readonly errors: number;
  readonly buckets: readonly Bucket[];
  readonly series: CounterSeries;
}

function delta(now: CounterSeries, before: CounterSeries): SeriesDelta {
  const reset = now.requests < before.requests || now.errors < before.errors;
  if (reset) return { requests: now.requests, errors: now.errors, buckets: now.buckets, series: now };
  return {
    requests: now.requests - before.requests,
    errors: now.errors - before.errors,
    buckets: subtractBuckets(now.buckets, before.buckets),
    series: now,
  };
}

function fromDeltas(
  colour: Colour,
  deltas: readonly SeriesDelta[],
  at: number,
  intervalMs: number,
): ColourSample {
  let requests = 0;
  let errors = 0;
  let buckets: Bucket[] = [];
  for (const d of deltas) {
    requests += d.requests;
    errors += d.errors;
    buckets = addBuckets(buckets, d.buckets);
  }
  const fromHistogram = buckets.length > 0 && requests > 0;
  const quantile = (q: number, key: "p50" | "p95" | "p99"): number | null => {
    if (requests === 0) return null;
    if (fromHistogram) return histogramQuantile(q, buckets);
    return weighted(deltas, (d) => d.series.quantiles?.[key] ?? null);
  };
  const saturations = deltas.map((d) => d.series.saturation).filter((s): s is number => s !== null);
  return {
    colour,
    at,
    intervalMs,
    requests,
    errors: Math.min(errors, requests),
    requestRate: intervalMs > 0 ? requests / (intervalMs / 1000) : 0,
    errorRate: requests > 0 ? Math.min(1, errors / requests) : null,
    p50: quantile(0.5, "p50"),
    p95: quantile(0.95, "p95"),
    p99: quantile(0.99, "p99"),
    saturation: saturations.length > 0 ? saturations.reduce((a, b) => a + b, 0) / saturations.length : null,
    ...(fromHistogram ? { buckets } : {}),
  };
}

function weighted(deltas: readonly SeriesDelta[], value: (d: SeriesDelta) => number | null): number | null {
  let weight = 0;
  let sum = 0;
  for (const d of deltas) {
    const v = value(d);
    if (v === null || !Number.isFinite(v) || d.requests <= 0) continue;
    weight += d.requests;
    sum += v * d.requests;
  }
  return weight > 0 ? sum / weight : null;
}

function fromDerived(
  colour: Colour,
  values: DerivedValues | null,
  at: number,
  intervalMs: number,
): ColourSample {
  const rate = finite(values?.requestRate ?? null) ?? 0;
  const requests = Math.round(rate * (intervalMs / 1000));
  const errorRate = requests > 0 ? finite(values?.errorRate ?? null) : null;
  return {
    colour,
    at,
    intervalMs,
    requests,
    errors: errorRate === null ? 0 : Math.round(errorRate * requests),
    requestRate: rate,
    errorRate,
    p50: requests > 0 ? finite(values?.p50 ?? null) : null,
    p95: requests > 0 ? finite(values?.p95 ?? null) : null,
    p99: requests > 0 ? finite(values?.p99 ?? null) : null,
    saturation: finite(values?.saturation ?? null),
  };
}

function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function byColour<T>(make: (colour: Colour) => T): Record<Colour, T> {
  const out = {} as Record<Colour, T>;
  for (const colour of COLOURS) out[colour] = make(colour);
  return out;
}
