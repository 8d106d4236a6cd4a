import type { LoadSummary } from "./load-generator.js";
import type { SwitchTiming } from "./switch-timing.js";

/** When a drill passes. Defaults: no failed request, max latency under 2 s, mean under 0.5 s, 100% from the expected colour. */
export interface PassCriteria {
  readonly maxFailed: number;
  /** Every latency must be below this. */
  readonly maxLatencyMs: number;
  readonly maxMeanLatencyMs: number;
  /** Share (0-100) of answers after each completed switch that must come from the expected colour. */
  readonly minExpectedPercent: number;
}

export const DEFAULT_CRITERIA: PassCriteria = {
  maxFailed: 0,
  maxLatencyMs: 2_000,
  maxMeanLatencyMs: 500,
  minExpectedPercent: 100,
};

export interface CriterionResult {
  readonly name: string;
  readonly expected: string;
  readonly actual: string;
  readonly passed: boolean;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Checks the sequence part of a drill against the criteria; one result per criterion. */
export function judgeDrill(
  summary: LoadSummary,
  timings: readonly SwitchTiming[],
  criteria: PassCriteria,
  stoppedEarly: string | null,
): CriterionResult[] {
  const answered = timings.reduce((n, t) => n + t.answeredAfter, 0);
  const expected = timings.reduce((n, t) => n + t.fromExpectedAfter, 0);
  const worst = timings
    .filter((t) => t.answeredAfter > 0)
    .map((t) => ({ t, share: (100 * t.fromExpectedAfter) / t.answeredAfter }))
    .sort((a, b) => a.share - b.share)[0];
  const failedSteps = timings.filter((t) => !t.ok);
  return [
    {
      name: "failed requests",
      expected: `<= ${criteria.maxFailed}`,
      actual: `${summary.failed} of ${summary.sent}${summary.failed ? ` (${describeCounts(summary.errors)})` : ""}`,
      passed: summary.failed <= criteria.maxFailed,
    },
    {
      name: "max latency",
      expected: `< ${ms(criteria.maxLatencyMs)}`,
      actual: ms(summary.maxMs),
      passed: summary.maxMs < criteria.maxLatencyMs,
    },
    {
      name: "mean latency",
      expected: `< ${ms(criteria.maxMeanLatencyMs)}`,
      actual: ms(summary.meanMs),
      passed: summary.meanMs < criteria.maxMeanLatencyMs,
    },
    {
      name: "answers from the expected colour after each switch",
      expected: `>= ${criteria.minExpectedPercent}% after every switch`,
      actual:
        worst === undefined
          ? "no answers after a completed switch"
          : worst.share === 100
            ? `${expected} of ${answered} (every switch 100%)`
            : `${expected} of ${answered}; worst switch #${worst.t.index + 1}: ${worst.share.toFixed(2)}%`,
      passed: worst === undefined ? timings.length === 0 : worst.share >= criteria.minExpectedPercent,
    },
    {
      name: "every step of the sequence succeeded",
      expected: "all Healthy (or exit 0)",
      actual:
        stoppedEarly ??
        (failedSteps.length === 0
          ? `${timings.length} of ${timings.length}`
          : `${failedSteps.length} did not: ${failedSteps
              .slice(0, 3)
              .map((t) => `#${t.index + 1} ${t.detail}`)
              .join("; ")}`),
      passed: stoppedEarly === null && failedSteps.length === 0,
    },
  ];
}

export function describeCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([key, n]) => `${key}: ${n}`)
    .join(", ");
}
