import { normalCdf, normalQuantile } from "./normal-distribution.js";

export interface MannWhitneyResult {
  /** U of x: pairs with x above y, ties counted one half (R's W, SciPy's U1). */
  readonly u: number;
  /** Two-sided p-value. */
  readonly pValue: number;
  /** Exact distribution (no ties, both samples under 50) or the normal approximation with tie and continuity corrections. */
  readonly method: "exact" | "normal";
  /** Hodges-Lehmann estimate of the shift x - y: the median of all pairwise differences. */
  readonly estimate: number;
  /** Confidence interval of the shift at the requested level. */
  readonly lower: number;
  readonly upper: number;
}

/**
 * The Mann-Whitney U test (Wilcoxon rank-sum) of x against y, two-sided, with the Hodges-Lehmann estimate
 * of the shift and its distribution-free confidence interval, computed as R's wilcox.test does: exact
 * when there are no ties and both samples have fewer than 50 values, else the normal approximation with
 * tie correction and continuity correction. Null when either sample is empty.
 */
export function mannWhitney(
  x: readonly number[],
  y: readonly number[],
  confidence: number,
): MannWhitneyResult | null {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) return null;
  const { rankSumX, tieTerm } = ranks(x, y);
  const u = rankSumX - (m * (m + 1)) / 2;
  const diffs = pairwiseDifferences(x, y);
  const estimate = median(diffs);
  const alpha = 1 - confidence;
  if (tieTerm === 0 && m < 50 && n < 50) {
    const cdf = exactCdf(m, n);
    const lowerTail = (k: number) => (k < 0 ? 0 : (cdf[Math.min(k, cdf.length - 1)] as number));
    const p = u > (m * n) / 2 ? 1 - lowerTail(u - 1) : lowerTail(u);
    let qu = cdf.findIndex((value) => value >= alpha / 2);
    if (qu <= 0) qu = 1;
    const ql = m * n - qu;
    return {
      u,
      pValue: Math.min(1, 2 * p),
      method: "exact",
      estimate,
      lower: diffs[qu - 1] as number,
      upper: diffs[ql] as number,
    };
  }
  const total = m + n;
  const sigma = Math.sqrt(((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  const centred = u - (m * n) / 2;
  let pValue = 1;
  if (sigma > 0) {
    const z = (centred - Math.sign(centred) * 0.5) / sigma;
    pValue = Math.min(1, 2 * Math.min(normalCdf(z), 1 - normalCdf(z)));
  }
  const k = Math.max(1, Math.floor((m * n) / 2 - normalQuantile(1 - alpha / 2) * sigma));
  return {
    u,
    pValue,
    method: "normal",
    estimate,
    lower: diffs[Math.min(k, diffs.length) - 1] as number,
    upper: diffs[Math.max(0, diffs.length - k)] as number,
  };
}

/** Sum of the mid-ranks of x in the pooled sample, and Σ(t³ - t) over groups of ties. */
function ranks(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled = [...x.map((v) => ({ v, isX: true })), ...y.map((v) => ({ v, isX: false }))].sort(
    (a, b) => a.v - b.v,
  );
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < pooled.length; ) {
    let j = i;
    while (j + 1 < pooled.length && (pooled[j + 1] as { v: number }).v === (pooled[i] as { v: number }).v)
      j++;
    const t = j - i + 1;
    const midRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if ((pooled[k] as { isX: boolean }).isX) rankSumX += midRank;
    if (t > 1) tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { rankSumX, tieTerm };
}

/**
 * P(U <= k) for k = 0..m·n under the null hypothesis, from the counts of arrangements:
 * f(i, j, k) = f(i-1, j, k-j) + f(i, j-1, k), built one row of i at a time (additions only, so exact in doubles
 * to their relative precision).
 */
export function exactCdf(m: number, n: number): readonly number[] {
  const key = `${m}x${n}`;
  const cached = CDF_CACHE.get(key);
  if (cached !== undefined) return cached;
  const cdf = computeExactCdf(m, n);
  if (CDF_CACHE.size >= 64) CDF_CACHE.delete(CDF_CACHE.keys().next().value as string);
  CDF_CACHE.set(key, cdf);
  return cdf;
}

const CDF_CACHE = new Map<string, readonly number[]>();

function computeExactCdf(m: number, n: number): number[] {
  let previous: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1)); // i = 0: U is always 0
  for (let i = 1; i <= m; i++) {
    const current: Float64Array[] = [Float64Array.of(1)]; // j = 0: U is always 0
    for (let j = 1; j <= n; j++) {
      const counts = new Float64Array(i * j + 1);
      const above = previous[j] as Float64Array; // f(i-1, j, ·), shifted by j
      const left = current[j - 1] as Float64Array; // f(i, j-1, ·)
      for (let k = 0; k < above.length; k++) counts[k + j] = (counts[k + j] as number) + (above[k] as number);
      for (let k = 0; k < left.length; k++) counts[k] = (counts[k] as number) + (left[k] as number);
      current.push(counts);
    }
    previous = current;
  }
  const counts = previous[n] as Float64Array;
  let total = 0;
  for (const count of counts) total += count;
  const cdf: number[] = [];
  let running = 0;
  for (const count of counts) {
    running += count;
    cdf.push(running / total);
  }
  return cdf;
}

function pairwiseDifferences(x: readonly number[], y: readonly number[]): number[] {
  const diffs = new Float64Array(x.length * y.length);
  let index = 0;
  for (const a of x) for (const b of y) diffs[index++] = a - b;
  return Array.from(diffs.sort());
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
