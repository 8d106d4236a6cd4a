import type { AnalysisPhase, BaselineFrom } from "../analysis/analysis-run.js";
import type { Colour } from "../colour.js";
import type { Verdict } from "../engine/ports/deploy-analysis.js";

/**
 * The per-deploy journal, <stateDir>/analysis/<deploy-id>.jsonl: one JSON object per line, written while
 * the deploy runs, read by `cutover report`. Everything a report draws comes from it.
 */
export type JournalLine = JournalMeta | JournalTick | JournalAnalysis | JournalRecord;

export interface JournalMeta {
  readonly type: "meta";
  readonly deployId: string;
  readonly service: string;
  readonly version: string;
  readonly source: string;
  readonly intervalMs: number;
}

/** The numbers of one colour over one interval (the sampler's ColourSample without its histogram). */
export interface JournalSample {
  readonly at: number;
  readonly intervalMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly requestRate: number;
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly saturation: number | null;
}

export interface JournalTick {
  readonly type: "tick";
  readonly at: number;
  readonly samples: Readonly<Record<Colour, JournalSample>>;
}

export interface JournalMetric {
  readonly metric: string;
  readonly classification: string;
  readonly canaryMean: number | null;
  readonly baselineMean: number | null;
  readonly effectSize: number | null;
  readonly pValue: number | null;
  readonly reason: string;
}

export interface JournalAnalysis {
  readonly type: "analysis";
  readonly phase: AnalysisPhase;
  readonly canary: Colour;
  readonly baseline: Colour;
  readonly verdict: Verdict;
  readonly summary: string;
  readonly score: number | null;
  readonly metrics: readonly JournalMetric[];
  readonly baselineFrom: BaselineFrom;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly measurements: readonly {
    readonly index: number;
    readonly at: number;
    readonly status: string;
    readonly detail: string;
  }[];
}

/** The fields of the engine's deploy record a report uses (the engine's DeployRecord fits). */
export interface DeployRecordView {
  readonly id: string;
  readonly kind: "deploy" | "rollback";
  readonly version: string;
  readonly from: { readonly colour: Colour; readonly version: string | null };
  readonly to: { readonly colour: Colour; readonly version: string | null };
  readonly phase: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly reason?: string;
  readonly switchedAt?: string;
  readonly rolledBackAt?: string;
  readonly steps?: readonly { readonly name: string; readonly state: string; readonly detail?: string }[];
}

export interface JournalRecord {
  readonly type: "record";
  readonly record: DeployRecordView;
}
