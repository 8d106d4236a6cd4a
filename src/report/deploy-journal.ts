import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ColourSample, SampleTick } from "../analysis/colour-sample.js";
import type { DeployAnalysisReport } from "../analysis/cutover-analysis.js";
import { CutoverError } from "../errors.js";
import type {
  DeployRecordView,
  JournalAnalysis,
  JournalLine,
  JournalMeta,
  JournalSample,
  JournalTick,
} from "./deploy-journal-format.js";

export const JOURNAL_DIR = "analysis";

/** The journal file of a deploy. */
export function journalPath(stateDir: string, deployId: string): string {
  return join(stateDir, JOURNAL_DIR, `${deployId}.jsonl`);
}

/** Appends the lines of one deploy's journal; a write that fails is reported once and never thrown. */
export class DeployJournal {
  readonly path: string;
  readonly #onError: (error: Error) => void;
  #failed = false;

  constructor(stateDir: string, deployId: string, onError: (error: Error) => void) {
    this.path = journalPath(stateDir, deployId);
    this.#onError = onError;
    try {
      mkdirSync(join(stateDir, JOURNAL_DIR), { recursive: true });
    } catch (error) {
      this.#fail(error);
    }
  }

  meta(meta: Omit<JournalMeta, "type">): void {
    this.#append({ type: "meta", ...meta });
  }

  tick(tick: SampleTick): void {
    this.#append({
      type: "tick",
      at: tick.at,
      samples: { blue: slim(tick.samples.blue), green: slim(tick.samples.green) },
    });
  }

  analysis(report: DeployAnalysisReport): void {
    const line: JournalAnalysis = {
      type: "analysis",
      phase: report.phase,
      canary: report.canary,
      baseline: report.baseline,
      verdict: report.outcome.verdict,
      summary: report.outcome.summary,
      score: report.judge?.score ?? null,
      metrics: (report.judge?.metrics ?? []).map((m) => ({
        metric: m.metric,
        classification: m.classification,
        canaryMean: m.canaryMean,
        baselineMean: m.baselineMean,
        effectSize: m.effectSize !== null && Number.isFinite(m.effectSize) ? m.effectSize : null,
        pValue: m.pValue,
        reason: m.reason,
      })),
      baselineFrom: report.baselineFrom,
      startedAt: report.startedAt,
      endedAt: report.endedAt,
      measurements: report.measurements.map((m) => ({
        index: m.index,
        at: m.at,
        status: m.status,
        detail: m.detail,
      })),
    };
    this.#append(line);
  }

  record(record: DeployRecordView): void {
    this.#append({ type: "record", record });
  }

  #append(line: JournalLine): void {
    if (this.#failed) return;
    try {
      appendFileSync(this.path, `${JSON.stringify(line)}\n`);
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#failed = true;
    this.#onError(error instanceof Error ? error : new Error(String(error)));
  }
}

function slim(sample: ColourSample): JournalSample {
  const { colour: _colour, buckets: _buckets, ...rest } = sample;
  return rest;
}

/** Everything a journal holds, read back; the last record line wins. */
export interface JournalContents {
  readonly meta: JournalMeta | null;
  readonly ticks: readonly JournalTick[];
  readonly analyses: readonly JournalAnalysis[];
  readonly record: DeployRecordView | null;
}

/** No journal for that deploy (or none at all). */
export class JournalNotFoundError extends CutoverError {
  constructor(detail: string) {
    super(
      "NO_JOURNAL",
      `${detail}; reports are recorded for deploys run with \`analysis:\` in cutover.yaml (see \`cutover history\`)`,
    );
    this.name = "JournalNotFoundError";
  }
}

export function readJournal(path: string): JournalContents {
  if (!existsSync(path)) throw new JournalNotFoundError(`no deploy journal at ${path}`);
  let meta: JournalMeta | null = null;
  const ticks: JournalTick[] = [];
  const analyses: JournalAnalysis[] = [];
  let record: DeployRecordView | null = null;
  for (const text of readFileSync(path, "utf8").split("\n")) {
    if (text.trim() === "") continue;
    let line: JournalLine;
    try {
      line = JSON.parse(text) as JournalLine;
    } catch {
      continue; // a line cut short by a crash: skip it
    }
    if (line.type === "meta") meta = line;
    else if (line.type === "tick") ticks.push(line);
    else if (line.type === "analysis") analyses.push(line);
    else if (line.type === "record") record = line.record;
  }
  return { meta, ticks, analyses, record };
}

/** The id of the most recently written journal, or null when there is none. */
export function latestJournalId(stateDir: string): string | null {
  const dir = join(stateDir, JOURNAL_DIR);
  if (!existsSync(dir)) return null;
  let latest: { id: string; mtime: number } | null = null;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".jsonl")) continue;
    const mtime = statSync(join(dir, name)).mtimeMs;
    if (latest === null || mtime > latest.mtime) latest = { id: name.slice(0, -".jsonl".length), mtime };
  }
  return latest?.id ?? null;
}
