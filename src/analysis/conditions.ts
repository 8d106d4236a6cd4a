import type { Colour } from "../colour.js";
import type { ConditionConfig, MetricName } from "../config/analysis-schema.js";
import type { ColourSample, WindowSummary } from "./colour-sample.js";
import { formatMetric as format } from "./format-metric.js";
import { mannWhitney } from "./judge/mann-whitney.js";

export const MEASUREMENT_STATUSES = ["Pass", "Fail", "Inconclusive"] as const;
export type MeasurementStatus = (typeof MEASUREMENT_STATUSES)[number];

/** One colour's numbers over the lookback: merged, and the per-interval samples they come from. */
export interface ConditionSide {
  readonly colour: Colour;
  readonly window: WindowSummary;
  readonly samples: readonly ColourSample[];
}

export interface ConditionsInput {
  readonly conditions: readonly ConditionConfig[];
  readonly canary: ConditionSide;
  /** The old colour over the same span, or null when there is nothing to compare with. */
  readonly baseline: ConditionSide | null;
  /** Requests a colour needs in the window before its numbers say anything. */
  readonly minRequests: number;
  /** For relative conditions: the test that a ratio above the bound is more than noise. */
  readonly significance: {
    readonly confidence: number;
    readonly minSamples: number;
    readonly minSampleRequests: number;
  };
}

export interface ConditionsResult {
  readonly status: MeasurementStatus;
  /** The first broken condition, or why nothing could be said, or "all conditions hold". */
  readonly detail: string;
}

/**
 * Checks every condition on one window of the new colour: absolute bounds (max, min) and bounds relative
 * to the old colour (maxRatio). A relative bound is broken when the ratio over the window is above it and
 * the new colour's per-interval values are also significantly higher (Mann-Whitney at the judge's
 * confidence), so one slow moment on a busy machine does not count as a regression. Fail when any
 * condition is broken; Inconclusive when one cannot be checked because a colour served fewer than
 * minRequests requests (or has too few intervals, or the metric is unknown); else Pass.
 */
export function checkConditions(input: ConditionsInput): ConditionsResult {
  const { canary, baseline, minRequests } = input;
  const broken: string[] = [];
  const unknown: string[] = [];
  if (canary.window.requests < minRequests) {
    return {
      status: "Inconclusive",
      detail: `${canary.colour} served ${canary.window.requests} requests in the lookback, fewer than minRequests ${minRequests}`,
    };
  }
  for (const condition of input.conditions) {
    const value = canary.window[condition.metric];
    const name = condition.metric;
    if (value === null) {
      unknown.push(`${name} unknown on ${canary.colour}`);
      continue;
    }
    if (condition.max !== undefined && value > condition.max)
      broken.push(`${name} ${format(name, value)} > max ${format(name, condition.max)} on ${canary.colour}`);
    if (condition.min !== undefined && value < condition.min)
      broken.push(`${name} ${format(name, value)} < min ${format(name, condition.min)} on ${canary.colour}`);
    if (condition.maxRatio !== undefined) {
      const old = baseline === null || baseline.window.requests < minRequests ? null : baseline.window[name];
      if (old === null || baseline === null) {
        unknown.push(`no ${name} of the old colour to compare with`);
        continue;
      }
      if (value > old * condition.maxRatio) {
        const ratio = old > 0 ? `${(value / old).toFixed(2)}x` : "above 0";
        const what = `${name} ${format(name, value)} on ${canary.colour} is ${ratio} ${baseline.colour}'s ${format(name, old)} (max ${condition.maxRatio}x)`;
        const higher = significantlyHigher(name, canary.samples, baseline.samples, input.significance);
        if (higher === null) unknown.push(`${what}, over too few intervals to be sure`);
        else if (higher) broken.push(what);
      }
    }
  }
  if (broken.length > 0) return { status: "Fail", detail: broken.join("; ") };
  if (unknown.length > 0) return { status: "Inconclusive", detail: unknown.join("; ") };
  return { status: "Pass", detail: "all conditions hold" };
}

/** Whether the new colour's per-interval values of `metric` are significantly above the old one's; null with too few. */
function significantlyHigher(
  metric: MetricName,
  canary: readonly ColourSample[],
  baseline: readonly ColourSample[],
  significance: ConditionsInput["significance"],
): boolean | null {
  const values = (samples: readonly ColourSample[]) =>
    samples
      .filter((s) => s.requests >= significance.minSampleRequests)
      .map((s) => s[metric])
      .filter((v): v is number => v !== null && Number.isFinite(v));
  const x = values(canary);
  const y = values(baseline);
  if (x.length < significance.minSamples || y.length < significance.minSamples) return null;
  const test = mannWhitney(x, y, significance.confidence);
  return test !== null && test.lower > 0;
}
