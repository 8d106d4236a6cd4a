import { describe, expect, it } from "vitest";
import type { ColourSample } from "../../src/analysis/colour-sample.js";
import { summarise } from "../../src/analysis/colour-sample.js";
import { checkConditions } from "../../src/analysis/conditions.js";
import { judge } from "../../src/analysis/judge/judge.js";
import { classifyMetric } from "../../src/analysis/judge/metric-classifier.js";
import type { Colour } from "../../src/colour.js";
import { analysisConfig } from "../../src/config/analysis-schema.js";

const config = analysisConfig({ interval: "1s", count: 10 });
const settings = { ...config.judge };
const latency = { metric: "p99", weight: 1, direction: "increase", critical: false } as const;

/** A sample with `requests` requests, the given error rate and latency (seconds). */
function sample(
  colour: Colour,
  i: number,
  values: { requests?: number; errorRate?: number; latency?: number },
): ColourSample {
  const requests = values.requests ?? 100;
  const errorRate = requests > 0 ? (values.errorRate ?? 0) : null;
  const l = requests > 0 ? (values.latency ?? 0.03) : null;
  return {
    colour,
    at: 1_000 * (i + 1),
    intervalMs: 1_000,
    requests,
    errors: Math.round((errorRate ?? 0) * requests),
    requestRate: requests,
    errorRate,
    p50: l,
    p95: l,
    p99: l,
    saturation: null,
  };
}

const series = (colour: Colour, values: readonly number[], key: "latency" | "errorRate") =>
  values.map((v, i) => sample(colour, i, { [key]: v }));

describe("metric classifier (Kayenta's MannWhitneyClassifier)", () => {
  it("classes a clearly slower new colour High, a faster one Pass for an increase-only metric, Low for either", () => {
    const old = [0.03, 0.031, 0.029, 0.03, 0.032, 0.031, 0.03, 0.029];
    const slow = old.map((v) => v * 2);
    const fast = old.map((v) => v / 2);
    expect(classifyMetric(latency, slow, old, settings).classification).toBe("High");
    expect(classifyMetric(latency, fast, old, settings).classification).toBe("Pass");
    expect(classifyMetric({ ...latency, direction: "either" }, fast, old, settings).classification).toBe(
      "Low",
    );
  });

  it("lets a significant but small increase pass under the effect-size tolerance", () => {
    const old = [0.03, 0.0301, 0.0302, 0.0303, 0.0304, 0.0305, 0.0306, 0.0307, 0.0308, 0.0309];
    const slightly = old.map((v) => v * 1.05); // every value higher, but only by 5%: below allowedIncrease 1.1
    const result = classifyMetric(latency, slightly, old, settings);
    expect(result.pValue).toBeLessThan(0.02);
    expect(result.classification).toBe("Pass");
  });

  it("passes identical constant series, and NoData with too few values or empty ones", () => {
    expect(classifyMetric(latency, [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], settings).classification).toBe("Pass");
    expect(
      classifyMetric(latency, [0.1, 0.1, 0.1, 0.1, 0.1], [0.05, 0.05, 0.05, 0.05, 0.05], settings)
        .classification,
    ).toBe("High");
    expect(classifyMetric(latency, [], [0.1, 0.2, 0.3, 0.4, 0.5], settings).classification).toBe("NoData");
    expect(classifyMetric(latency, [0.1, 0.2], [0.1, 0.2, 0.3, 0.4, 0.5], settings).classification).toBe(
      "NoData",
    );
    expect(
      classifyMetric(latency, [Number.NaN, 0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1], settings)
        .classification,
    ).toBe("NoData");
  });
});

describe("judge (weighted score, verdict)", () => {
  const blue = series("blue", [0.03, 0.031, 0.029, 0.03, 0.032, 0.031, 0.03, 0.029], "latency");

  it("passes a new colour as good as the old one", () => {
    const green = series("green", [0.031, 0.03, 0.03, 0.029, 0.031, 0.032, 0.03, 0.03], "latency");
    const result = judge(green, blue, config.judge);
    expect(result.verdict).toBe("Pass");
    expect(result.score).toBe(100);
  });

  it("fails twice the latency (p50 and p99 High: score 40 < marginal 50)", () => {
    const green = series(
      "green",
      blue.map((s) => (s.p99 as number) * 2),
      "latency",
    );
    const result = judge(green, blue, config.judge);
    expect(result.verdict).toBe("Fail");
    expect(result.score).toBe(40);
    expect(result.reason).toMatch(/p99 High 6\d\.\dms vs 30\.\dms/);
  });

  it("fails 5% errors at once: errorRate is critical", () => {
    const green = [0.05, 0.04, 0.06, 0.05, 0.07, 0.03, 0.05, 0.06].map((e, i) =>
      sample("green", i, { errorRate: e }),
    );
    const result = judge(green, blue, config.judge);
    expect(result.verdict).toBe("Fail");
    expect(result.score).toBe(0);
    expect(result.reason).toContain("critical errorRate");
  });

  it("is Marginal when only a light metric is High", () => {
    const marginal = analysisConfig({
      judge: {
        metrics: [
          { metric: "p50", weight: 70 },
          { metric: "p99", weight: 30 },
        ],
      },
    }).judge;
    const green = blue.map((s, i) => ({
      ...s,
      colour: "green" as const,
      p99: [0.06, 0.061, 0.062, 0.06, 0.059, 0.06, 0.063, 0.06][i] as number,
    }));
    const result = judge(green, blue, marginal);
    expect(result.verdict).toBe("Marginal");
    expect(result.score).toBe(70);
  });

  it("is Inconclusive, never Fail, with too little traffic: empty series, idle intervals, too few samples", () => {
    expect(judge([], [], config.judge).verdict).toBe("Inconclusive");
    expect(judge([], blue, config.judge).verdict).toBe("Inconclusive");
    const idle = Array.from({ length: 10 }, (_, i) => sample("green", i, { requests: 2, errorRate: 0.5 }));
    const result = judge(idle, blue, config.judge);
    expect(result.verdict).toBe("Inconclusive");
    expect(result.score).toBeNull();
    expect(
      judge(
        blue.slice(0, 3).map((s) => ({ ...s, colour: "green" as const })),
        blue,
        config.judge,
      ).verdict,
    ).toBe("Inconclusive");
    const none = Array.from({ length: 10 }, (_, i) => sample("green", i, { requests: 0 }));
    expect(judge(none, none, config.judge).verdict).toBe("Inconclusive");
  });
});

describe("conditions", () => {
  const conditions = analysisConfig({
    conditions: [
      { metric: "errorRate", max: 0.01 },
      { metric: "p99", maxRatio: 1.2 },
    ],
  }).conditions;
  const significance = config.judge;
  const side = (
    colour: Colour,
    values: readonly { errorRate?: number; latency?: number; requests?: number }[],
  ) => {
    const samples = values.map((v, i) => sample(colour, i, v));
    return { colour, window: summarise(samples), samples };
  };
  const repeat = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);
  const check = (canary: ReturnType<typeof side>, baseline: ReturnType<typeof side> | null) =>
    checkConditions({ conditions, canary, baseline, minRequests: 50, significance });
  const blue = side(
    "blue",
    [0.03, 0.031, 0.029, 0.03, 0.032, 0.031].map((latency) => ({ latency })),
  );

  it("fails an absolute bound and a bound relative to the old colour, naming the numbers", () => {
    expect(check(side("green", repeat(5, { errorRate: 0.05 })), blue)).toEqual({
      status: "Fail",
      detail: "errorRate 5.0% > max 1.0% on green",
    });
    const slow = check(
      side(
        "green",
        [0.06, 0.061, 0.059, 0.06, 0.062, 0.061].map((latency) => ({ latency })),
      ),
      blue,
    );
    expect(slow.status).toBe("Fail");
    expect(slow.detail).toMatch(/^p99 60\.\dms on green is 1\.9\dx blue's 30\.\dms \(max 1\.2x\)$/);
    expect(check(side("green", repeat(6, { latency: 0.031 })), blue).status).toBe("Pass");
  });

  it("does not fail a relative bound on one slow moment: the per-interval values must be significantly higher", () => {
    // One interval at 300 ms lifts green's merged p99 far above 1.2x blue's, but the other five match blue.
    const spike = side(
      "green",
      [0.03, 0.031, 0.3, 0.03, 0.029, 0.031].map((latency) => ({ latency })),
    );
    expect(spike.window.p99).toBeGreaterThan(0.036);
    expect(check(spike, blue).status).toBe("Pass");
    const early = check(side("green", repeat(3, { latency: 0.06, requests: 100 })), blue);
    expect(early.status).toBe("Inconclusive");
    expect(early.detail).toContain("over too few intervals to be sure");
  });

  it("is Inconclusive with too few requests or no old colour to compare with", () => {
    const little = check(side("green", repeat(2, { requests: 10, errorRate: 0.5 })), null);
    expect(little.status).toBe("Inconclusive");
    expect(little.detail).toContain("fewer than minRequests 50");
    expect(check(side("green", repeat(5, {})), null).status).toBe("Inconclusive");
  });
});
