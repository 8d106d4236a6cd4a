import type { Bucket } from "./metric-source.js";

/**
 * The q-quantile of a cumulative histogram, as Prometheus' histogram_quantile computes it: find the bucket
 * the rank falls in and interpolate linearly inside it (from 0 for the first bucket). A rank in the +Inf
 * bucket answers the highest finite bound. Null when the histogram counts nothing.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | null {
  if (buckets.length === 0) return null;
  const total = (buckets.at(-1) as Bucket).count;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      if (inBucket <= 0) return bucket.le;
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

/** Adds cumulative histograms bucket by bucket (bounds present in only some are kept, counted where known). */
export function addBuckets(a: readonly Bucket[], b: readonly Bucket[]): Bucket[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const sums = new Map<number, number>();
  for (const bucket of [...a, ...b]) sums.set(bucket.le, (sums.get(bucket.le) ?? 0) + bucket.count);
  return [...sums.entries()].sort((x, y) => x[0] - y[0]).map(([le, count]) => ({ le, count }));
}

/** Bucket counts of `now` minus `before` (a cumulative histogram of what happened in between). */
export function subtractBuckets(now: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  const previous = new Map(before.map((bucket) => [bucket.le, bucket.count]));
  return now.map((bucket) => ({
    le: bucket.le,
    count: Math.max(0, bucket.count - (previous.get(bucket.le) ?? 0)),
  }));
}
