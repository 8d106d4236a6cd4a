import type { JudgeConfig, MetricName } from "../../config/analysis-schema.js";
import type { Verdict } from "../../engine/ports/deploy-analysis.js";
import type { ColourSample } from "../colour-sample.js";
import { formatMetric } from "../format-metric.js";
import { classifyMetric, type MetricClassification } from "./metric-classifier.js";

export interface JudgeResult {
  readonly verdict: Verdict;
  /** 0..100; null when Inconclusive. */
  readonly score: number | null;
  readonly metrics: readonly MetricClassification[];
  /** One phrase with the numbers, e.g. "score 40 (errorRate High 5.1% vs 0.0%, p99 Pass, p50 Pass)". */
  readonly reason: string;
}

export interface JudgeOptions {
  /** Overrides judge.confidence (interim looks use a stricter one). */
  readonly confidence?: number;
}

/**
 * Kayenta's judge over per-interval samples: each configured metric is classed Pass / High / Low / NoData
 * (see classifyMetric); a critical metric that is High (or Low, when that direction matters) sets the score
 * to 0; otherwise the score is the weight of passing metrics over the weight of metrics with data. Score >=
 * pass: Pass; >= marginal: Marginal; else Fail. When metrics without data weigh half or more, the verdict is
 * Inconclusive: too little traffic never fails a deploy.
 */
export function judge(
  canary: readonly ColourSample[],
  baseline: readonly ColourSample[],
  config: JudgeConfig,
  options: JudgeOptions = {},
): JudgeResult {
  const settings = { ...config, confidence: options.confidence ?? config.confidence };
  const metrics = config.metrics.map((m) =>
    classifyMetric(m, values(canary, m.metric, config), values(baseline, m.metric, config), settings),
  );
  const totalWeight = config.metrics.reduce((sum, m) => sum + m.weight, 0);
  let dataWeight = 0;
  let passWeight = 0;
  let criticalFailure: MetricClassification | null = null;
  config.metrics.forEach((m, i) => {
    const result = metrics[i] as MetricClassification;
    if (result.classification === "NoData") return;
    dataWeight += m.weight;
    if (result.classification === "Pass") passWeight += m.weight;
    else if (m.critical && criticalFailure === null) criticalFailure = result;
  });
  const summary = metrics.map(describe).join(", ");
  if (dataWeight * 2 <= totalWeight) {
    return {
      verdict: "Inconclusive",
      score: null,
      metrics,
      reason: `too little traffic to judge (${summary})`,
    };
  }
  const score = criticalFailure === null ? Math.round((100 * passWeight) / dataWeight) : 0;
  const verdict: Verdict = score >= config.pass ? "Pass" : score >= config.marginal ? "Marginal" : "Fail";
  const critical =
    criticalFailure === null ? "" : ` critical ${(criticalFailure as MetricClassification).metric}`;
  return { verdict, score, metrics, reason: `score ${score}${critical} (${summary})` };
}

/** The values of `metric` in samples with enough requests to say something. */
function values(samples: readonly ColourSample[], metric: MetricName, config: JudgeConfig): number[] {
  const out: number[] = [];
  for (const sample of samples) {
    if (metric !== "saturation" && sample.requests < config.minSampleRequests) continue;
    const value = sample[metric];
    if (value !== null && Number.isFinite(value)) out.push(value);
  }
  return out;
}

function describe(m: MetricClassification): string {
  if (m.classification === "NoData") return `${m.metric} NoData`;
  if (m.classification === "Pass") return `${m.metric} Pass`;
  return `${m.metric} ${m.classification} ${formatMetric(m.metric, m.canaryMean)} vs ${formatMetric(m.metric, m.baselineMean)}`;
}
