import type { JudgedMetricConfig } from "../../config/analysis-schema.js";
import { mannWhitney } from "./mann-whitney.js";

export const CLASSIFICATIONS = ["Pass", "High", "Low", "NoData"] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export interface ClassifierSettings {
  readonly confidence: number;
  readonly tolerance: number;
  readonly allowedIncrease: number;
  readonly allowedDecrease: number;
  /** Values each side needs; fewer is NoData. */
  readonly minSamples: number;
}

export interface MetricClassification {
  readonly metric: JudgedMetricConfig["metric"];
  readonly classification: Classification;
  /** Values compared: new colour, old colour. */
  readonly canaryCount: number;
  readonly baselineCount: number;
  readonly canaryMean: number | null;
  readonly baselineMean: number | null;
  /** Mean ratio new/old (Infinity when old is 0 and new is not; 1 when both are 0). */
  readonly effectSize: number | null;
  readonly pValue: number | null;
  /** Hodges-Lehmann shift new - old and its confidence interval. */
  readonly estimate: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  /** One phrase: why. */
  readonly reason: string;
}

/**
 * Classes one metric of the new colour (canary) against the old one (baseline) as Kayenta's
 * MannWhitneyClassifier does: drop values that are not finite; too few values is NoData; identical
 * constant series pass; otherwise a Mann-Whitney U test at `confidence`, and the metric is High when the
 * lower bound of the shift's interval clears `tolerance` x |estimate| and the mean ratio is at least
 * `allowedIncrease` (Low is the mirror image), in the directions the metric cares about.
 */
export function classifyMetric(
  metric: JudgedMetricConfig,
  canaryValues: readonly number[],
  baselineValues: readonly number[],
  settings: ClassifierSettings,
): MetricClassification {
  const canary = canaryValues.filter(Number.isFinite);
  const baseline = baselineValues.filter(Number.isFinite);
  const base = {
    metric: metric.metric,
    canaryCount: canary.length,
    baselineCount: baseline.length,
    canaryMean: mean(canary),
    baselineMean: mean(baseline),
  };
  const nothing = { effectSize: null, pValue: null, estimate: null, lower: null, upper: null };
  if (canary.length < settings.minSamples || baseline.length < settings.minSamples) {
    return {
      ...base,
      ...nothing,
      classification: "NoData",
      reason: `too few samples (${canary.length} new, ${baseline.length} old; ${settings.minSamples} needed)`,
    };
  }
  const effectSize = ratio(base.canaryMean as number, base.baselineMean as number);
  if (isConstant(canary) && isConstant(baseline) && canary[0] === baseline[0]) {
    return { ...base, ...nothing, effectSize, classification: "Pass", reason: "identical constant series" };
  }
  const test = mannWhitney(canary, baseline, settings.confidence);
  if (test === null) throw new Error("unreachable: both samples are non-empty here");
  const critical = settings.tolerance * Math.abs(test.estimate);
  const up = metric.direction !== "decrease";
  const down = metric.direction !== "increase";
  const high = up && test.lower > critical && effectSize >= settings.allowedIncrease;
  const low = down && test.upper < -critical && effectSize <= settings.allowedDecrease;
  const classification: Classification = high ? "High" : low ? "Low" : "Pass";
  const stats = {
    effectSize,
    pValue: test.pValue,
    estimate: test.estimate,
    lower: test.lower,
    upper: test.upper,
  };
  return { ...base, ...stats, classification, reason: describe(classification, effectSize, test.pValue) };
}

function describe(classification: Classification, effectSize: number, pValue: number): string {
  const times = Number.isFinite(effectSize) ? `${effectSize.toFixed(2)}x` : "from 0";
  const p = pValue < 0.001 ? pValue.toExponential(1) : pValue.toFixed(3);
  if (classification === "High") return `higher: ${times} the old colour (p=${p})`;
  if (classification === "Low") return `lower: ${times} the old colour (p=${p})`;
  return `no meaningful difference (${times}, p=${p})`;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function ratio(canary: number, baseline: number): number {
  if (baseline === 0) return canary === 0 ? 1 : canary > 0 ? Number.POSITIVE_INFINITY : 0;
  return canary / baseline;
}

function isConstant(values: readonly number[]): boolean {
  return values.every((value) => value === values[0]);
}
