import type { Colour } from "../colour.js";
import type { AnalysisConfig } from "../config/analysis-schema.js";
import type { AnalysisOutcome, Verdict } from "../engine/ports/deploy-analysis.js";
import { type ColourSample, summarise, type WindowSummary } from "./colour-sample.js";
import type { ColourSampler } from "./colour-sampler.js";
import { checkConditions, type MeasurementStatus } from "./conditions.js";
import { formatMetric } from "./format-metric.js";
import { type JudgeResult, judge } from "./judge/judge.js";

export const ANALYSIS_PHASES = ["pre-switch", "post-switch"] as const;
export type AnalysisPhase = (typeof ANALYSIS_PHASES)[number];

/** Where the old colour's numbers came from: its traffic during the run, or its samples from before it. */
export type BaselineFrom = "live" | "history" | "none";

export interface Measurement {
  readonly index: number;
  readonly at: number;
  readonly status: MeasurementStatus;
  readonly detail: string;
  readonly canary: WindowSummary;
  readonly baseline: WindowSummary | null;
  readonly baselineFrom: BaselineFrom;
  /** The interim judgement, once both colours had enough samples. */
  readonly judge: JudgeResult | null;
}

/** Everything one analysis found: the outcome for the engine and the details for alerts and reports. */
export interface AnalysisReport {
  readonly phase: AnalysisPhase;
  readonly canary: Colour;
  readonly baseline: Colour;
  readonly outcome: AnalysisOutcome;
  readonly measurements: readonly Measurement[];
  readonly judge: JudgeResult | null;
  readonly baselineFrom: BaselineFrom;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface AnalysisRunOptions {
  readonly config: AnalysisConfig;
  readonly sampler: ColourSampler;
  readonly phase: AnalysisPhase;
  readonly canary: Colour;
  readonly baseline: Colour;
  /** The old colour's samples from before the run, used when it serves too little during the run. */
  readonly baselineHistory: readonly ColourSample[];
  readonly signal: AbortSignal;
  readonly onMeasurement?: (measurement: Measurement) => void;
}

/**
 * One analysis, as in Argo Rollouts' AnalysisRun with Kayenta's judge on top. After initialDelay, every
 * sampler tick is a measurement: the conditions are checked on the last `lookback` of samples, and once
 * both colours have judge.minSamples samples the judge looks too (at a confidence divided over the looks,
 * so peeking does not raise the false-fail rate); its Fail fails the measurement. The run fails as soon
 * as more than failureLimit measurements failed and is inconclusive as soon as more than inconclusiveLimit
 * were inconclusive. After `count` measurements the judge's final verdict, at judge.confidence, decides.
 */
export async function runAnalysis(options: AnalysisRunOptions): Promise<AnalysisReport> {
  const { config, sampler, signal } = options;
  const startedAt = Date.now();
  await sleep(config.initialDelay, signal);
  const runStart = Date.now();
  const measurements: Measurement[] = [];
  const interimConfidence = 1 - (1 - config.judge.confidence) / config.count;
  let failures = 0;
  let inconclusives = 0;
  let stopped: { verdict: Verdict; why: string } | null = null;
  while (measurements.length < config.count) {
    const tick = await sampler.nextTick(signal);
    const measurement = measure(options, tick.at, runStart, measurements.length + 1, interimConfidence);
    measurements.push(measurement);
    options.onMeasurement?.(measurement);
    if (measurement.status === "Fail") failures++;
    if (measurement.status === "Inconclusive") inconclusives++;
    if (failures > config.failureLimit) {
      stopped = { verdict: "Fail", why: measurement.detail };
      break;
    }
    if (config.inconclusiveLimit !== null && inconclusives > config.inconclusiveLimit) {
      stopped = { verdict: "Inconclusive", why: measurement.detail };
      break;
    }
  }
  const { canary, baseline, from } = series(options, runStart, Date.now());
  const final = stopped === null ? judge(canary, baseline, config.judge) : null;
  const last = measurements.at(-1) ?? null;
  let verdict: Verdict;
  let why: string;
  if (stopped !== null) {
    verdict = stopped.verdict;
    why = stopped.why;
  } else if (measurements.every((m) => m.status === "Inconclusive")) {
    verdict = "Inconclusive";
    why = last?.detail ?? "no measurement";
  } else {
    verdict = (final as JudgeResult).verdict;
    why = (final as JudgeResult).reason;
  }
  const counts = `${measurements.length}/${config.count} measurements: ${failures} failed, ${inconclusives} inconclusive`;
  const numbers =
    last === null
      ? ""
      : `; ${describeWindow(options.canary, last.canary)}, ${describeWindow(options.baseline, last.baseline)}`;
  const judged = final === null || final.reason === why ? "" : `; judge ${final.reason}`;
  const summary = `${why}; ${counts}${numbers}${judged}`;
  return {
    phase: options.phase,
    canary: options.canary,
    baseline: options.baseline,
    outcome: { verdict, summary },
    measurements,
    judge: final ?? last?.judge ?? null,
    baselineFrom: from,
    startedAt,
    endedAt: Date.now(),
  };
}

function measure(
  options: AnalysisRunOptions,
  at: number,
  runStart: number,
  index: number,
  confidence: number,
): Measurement {
  const { config } = options;
  const since = Math.max(runStart, at - config.lookback);
  const canarySamples = options.sampler.samples(options.canary, since);
  let baselineSamples = options.sampler.samples(options.baseline, since);
  let baselineWindow: WindowSummary | null = summarise(baselineSamples);
  let baselineFrom: BaselineFrom = "live";
  if (baselineWindow.requests < config.minRequests) {
    const recent = options.baselineHistory.filter(
      (s) => s.at > runStart - config.lookback && s.at <= runStart,
    );
    baselineSamples = recent.length > 0 ? recent : lastWithTraffic(options.baselineHistory, config.lookback);
    const fromHistory = summarise(baselineSamples);
    baselineWindow = fromHistory.requests > 0 ? fromHistory : null;
    baselineFrom = baselineWindow === null ? "none" : "history";
  }
  const canaryWindow = summarise(canarySamples);
  const checked = checkConditions({
    conditions: config.conditions,
    canary: { colour: options.canary, window: canaryWindow, samples: canarySamples },
    baseline:
      baselineWindow === null
        ? null
        : { colour: options.baseline, window: baselineWindow, samples: baselineSamples },
    minRequests: config.minRequests,
    significance: config.judge,
  });
  const { canary, baseline } = series(options, runStart, at);
  const enough = (samples: readonly ColourSample[]) =>
    samples.filter((s) => s.requests >= config.judge.minSampleRequests).length >= config.judge.minSamples;
  const interim =
    enough(canary) && enough(baseline) ? judge(canary, baseline, config.judge, { confidence }) : null;
  let status = checked.status;
  let detail = checked.detail;
  if (status !== "Fail" && interim?.verdict === "Fail") {
    status = "Fail";
    detail = `judge ${interim.reason}`;
  }
  return {
    index,
    at,
    status,
    detail,
    canary: canaryWindow,
    baseline: baselineWindow,
    baselineFrom,
    judge: interim,
  };
}

/** The samples the judge compares: the new colour's during the run; the old colour's too, or else its history. */
function series(
  options: AnalysisRunOptions,
  runStart: number,
  until: number,
): { canary: ColourSample[]; baseline: ColourSample[]; from: BaselineFrom } {
  const { config, sampler } = options;
  const during = (colour: Colour) => sampler.samples(colour, runStart).filter((s) => s.at <= until);
  const canary = during(options.canary);
  const live = during(options.baseline);
  const withTraffic = (samples: readonly ColourSample[]) =>
    samples.filter((s) => s.requests >= config.judge.minSampleRequests);
  if (withTraffic(live).length >= config.judge.minSamples) return { canary, baseline: live, from: "live" };
  const history = withTraffic(options.baselineHistory.filter((s) => s.at <= runStart)).slice(
    -Math.max(config.count, config.judge.minSamples),
  );
  if (history.length === 0) return { canary, baseline: live, from: live.length > 0 ? "live" : "none" };
  return { canary, baseline: history, from: "history" };
}

function lastWithTraffic(samples: readonly ColourSample[], spanMs: number): ColourSample[] {
  const busy = samples.filter((s) => s.requests > 0);
  const end = busy.at(-1)?.at;
  return end === undefined ? [] : busy.filter((s) => s.at > end - spanMs);
}

function describeWindow(colour: Colour, window: WindowSummary | null): string {
  if (window === null) return `${colour} no data`;
  return `${colour} ${window.requests} req ${formatMetric("errorRate", window.errorRate)} errors p50 ${formatMetric("p50", window.p50)} p99 ${formatMetric("p99", window.p99)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal.throwIfAborted();
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
