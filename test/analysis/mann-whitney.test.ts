import { describe, expect, it } from "vitest";
import { exactCdf, mannWhitney } from "../../src/analysis/judge/mann-whitney.js";
import { normalCdf, normalQuantile } from "../../src/analysis/judge/normal-distribution.js";

/**
 * Reference values: SciPy 1.17 scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method=...) for U
 * and p; the confidence intervals by brute force in Python (enumerating every arrangement of ranks, then
 * R's wilcox.test rule diffs[qu], diffs[m*n - qu + 1]); critical values from the published two-tailed
 * alpha = 0.05 tables of U (e.g. Mann & Whitney 1947; Zar, Biostatistical Analysis, table B.11).
 */
describe("Mann-Whitney U test", () => {
  it("matches R's and SciPy's exact answer on Hollander & Wolfe's example (R's wilcox.test docs)", () => {
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const result = mannWhitney(x, y, 0.95);
    expect(result?.method).toBe("exact");
    expect(result?.u).toBe(35); // R: W = 35
    expect(result?.pValue).toBeCloseTo(0.2544122544122544, 12); // R: one-sided p = 0.1272
    expect(result?.estimate).toBeCloseTo(0.305, 12);
    expect(result?.lower).toBeCloseTo(-0.15, 12);
    expect(result?.upper).toBeCloseTo(0.76, 12);
    const at98 = mannWhitney(x, y, 0.98);
    expect(at98?.lower).toBeCloseTo(-0.17, 12);
    expect(at98?.upper).toBeCloseTo(0.9, 12);
  });

  it("gives the published critical values of U (two-tailed, alpha 0.05)", () => {
    for (const [m, n, critical] of [
      [5, 5, 2],
      [8, 12, 22],
      [10, 10, 23],
      [20, 20, 127],
    ] as const) {
      const cdf = exactCdf(m, n);
      expect(cdf[critical]).toBeLessThanOrEqual(0.025);
      expect(cdf[critical + 1]).toBeGreaterThan(0.025);
    }
    expect(exactCdf(10, 10)[23]).toBeCloseTo(0.02162852627248912, 14);
    expect(exactCdf(3, 4).at(-1)).toBeCloseTo(1, 14);
  });

  it("matches SciPy's exact p-value on a medium sample", () => {
    const x = [3.1, 4.5, 2.2, 5.9, 6.3, 4.8, 3.7, 5.1, 6.8, 4.1, 5.5, 7.2];
    const y = [2.5, 3.3, 1.9, 4.0, 2.8, 3.6, 2.1, 4.4, 3.0];
    const result = mannWhitney(x, y, 0.98);
    expect(result?.u).toBe(94);
    expect(result?.pValue).toBeCloseTo(0.003259279420270132, 12);
  });

  it("uses the normal approximation with tie and continuity corrections when there are ties", () => {
    const result = mannWhitney([1, 2, 2, 3, 3, 3, 4], [2, 3, 4, 4, 5, 5, 6], 0.95);
    expect(result?.method).toBe("normal");
    expect(result?.u).toBe(8.5);
    expect(result?.pValue).toBeCloseTo(0.043051432728945134, 10);
    expect(result?.estimate).toBe(-2);
  });

  it("matches SciPy's asymptotic p-value on samples of 60 and 55", () => {
    const a = [
      10.002, 10.597, 9.452, 8.219, 9.091, 8.017, 10.12, 12.68, 9.016, 8.759, 10.98, 10.714, 10.211, 8.139,
      9.941, 11.391, 7.312, 9.085, 6.198, 7.421, 6.317, 9.53, 7.465, 10.543, 10.314, 9.626, 4.966, 8.923,
      9.903, 10.227, 6.94, 9.044, 8.043, 8.382, 12.122, 8.385, 9.935, 11.769, 8.833, 9.777, 10.221, 10.128,
      7.55, 10.152, 12.718, 6.906, 11.719, 10.239, 8.717, 14.001, 11.525, 7.601, 10.149, 11.153, 9.622,
      11.366, 9.867, 11.334, 12.877, 8.649,
    ];
    const b = [
      11.406, 10.073, 11.255, 8.626, 9.841, 10.608, 12.798, 13.29, 8.353, 9.411, 12.294, 7.015, 10.074,
      10.805, 13.514, 12.379, 10.346, 10.263, 10.5, 14.047, 10.144, 10.393, 11.705, 10.758, 10.605, 8.772,
      10.977, 10.113, 13.332, 12.306, 10.952, 12.337, 10.32, 13.104, 10.989, 12.167, 8.418, 11.693, 7.624,
      6.929, 10.391, 9.2, 11.328, 15.49, 9.337, 9.752, 11.411, 11.986, 10.647, 10.588, 12.405, 12.04, 8.933,
      10.842, 11.071,
    ];
    const result = mannWhitney(a, b, 0.98);
    expect(result?.method).toBe("normal");
    expect(result?.u).toBe(974);
    expect(result?.pValue).toBeCloseTo(0.00015552716448697697, 10);
    expect(result?.estimate).toBeLessThan(0);
    expect(result?.upper).toBeLessThan(0);
  });

  it("handles constant series: identical ones give p = 1, different ones a clear difference", () => {
    const same = mannWhitney([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], 0.98);
    expect(same?.pValue).toBe(1);
    expect(same?.estimate).toBe(0);
    const apart = mannWhitney([5, 5, 5, 5, 5, 5, 5, 5], [3, 3, 3, 3, 3, 3, 3, 3], 0.98);
    expect(apart?.u).toBe(64);
    expect(apart?.pValue).toBeCloseTo(0.00013758605716602886, 10); // SciPy, asymptotic
    expect(apart?.estimate).toBe(2);
    expect(apart?.lower).toBe(2);
    const zeros = mannWhitney([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0.05, 0, 0.1, 0, 0, 0.04, 0, 0], 0.98);
    expect(zeros?.pValue).toBeCloseTo(0.07787247147704081, 10); // SciPy, asymptotic
  });

  it("answers null for an empty series instead of throwing", () => {
    expect(mannWhitney([], [1, 2, 3], 0.98)).toBeNull();
    expect(mannWhitney([1, 2, 3], [], 0.98)).toBeNull();
  });

  it("has a normal distribution accurate to 1e-12", () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(normalCdf(-4.264890793922825)).toBeCloseTo(1e-5, 15);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740408408, 10);
    expect(normalQuantile(0.0001)).toBeCloseTo(-3.719016485455709, 10);
  });
});
