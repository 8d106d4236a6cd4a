import type { Colour } from "../colour.js";
import type { JournalContents } from "./deploy-journal.js";
import type { JournalAnalysis } from "./deploy-journal-format.js";

/** A moment marked on every chart. */
export interface ReportMark {
  readonly at: number;
  readonly label: string;
  readonly kind: "switch" | "rollback";
}

/** An analysis span shaded on the charts. */
export interface ReportSpan {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

/** A stretch of time during which one colour served the live traffic. */
export interface ReportLiveSpan {
  readonly from: number;
  readonly to: number;
  readonly colour: Colour;
  readonly label: string;
}

/** A point of one series: time, colour, the series it belongs to and its value. */
export interface ReportPoint {
  readonly t: number;
  readonly colour: Colour;
  readonly series: string;
  readonly value: number;
}

/** What a report shows, derived from a deploy's journal. */
export interface ReportModel {
  readonly title: string;
  readonly headline: string;
  /** Pass | Marginal | Fail | Inconclusive | Rolled back | Healthy | Aborted: the one word at the top. */
  readonly verdict: string;
  readonly severity: "good" | "warning" | "bad";
  readonly lines: readonly string[];
  readonly errorRate: readonly ReportPoint[];
  readonly latency: readonly ReportPoint[];
  readonly volume: readonly ReportPoint[];
  readonly marks: readonly ReportMark[];
  readonly spans: readonly ReportSpan[];
  /** Which colour served live traffic when: the old one until the switch, the new one, the old one again after a rollback. */
  readonly live: readonly ReportLiveSpan[];
  readonly analyses: readonly JournalAnalysis[];
  readonly generatedAt: string;
  /** When the deploy started (time 0 of the charts), epoch ms; null when unknown. */
  readonly startedAt: number | null;
}

/** Turns a journal into the series, marks and words of a report. */
export function reportModel(journal: JournalContents): ReportModel {
  const { meta, record, analyses } = journal;
  const id = record?.id ?? meta?.deployId ?? "deploy";
  const version = record?.version ?? meta?.version ?? "?";
  const service = meta?.service ?? "service";
  const errorRate: ReportPoint[] = [];
  const latency: ReportPoint[] = [];
  const volume: ReportPoint[] = [];
  for (const tick of journal.ticks) {
    for (const colour of ["blue", "green"] as const) {
      const s = tick.samples[colour];
      volume.push({ t: tick.at, colour, series: colour, value: s.requestRate });
      if (s.requests === 0) continue;
      if (s.errorRate !== null)
        errorRate.push({ t: tick.at, colour, series: colour, value: s.errorRate * 100 });
      if (s.p50 !== null) latency.push({ t: tick.at, colour, series: `${colour} p50`, value: s.p50 * 1000 });
      if (s.p99 !== null) latency.push({ t: tick.at, colour, series: `${colour} p99`, value: s.p99 * 1000 });
    }
  }
  const marks: ReportMark[] = [];
  if (record?.switchedAt) {
    marks.push({
      at: Date.parse(record.switchedAt),
      kind: "switch",
      label: `switch ${record.from.colour} → ${record.to.colour}`,
    });
  }
  if (record?.rolledBackAt) {
    marks.push({
      at: Date.parse(record.rolledBackAt),
      kind: "rollback",
      label: `rollback → ${record.from.colour}`,
    });
  }
  const spans = analyses.map((a) => ({
    from: a.startedAt,
    to: a.endedAt,
    label: `${a.phase} analysis: ${a.verdict}`,
  }));
  const live = liveSpans(journal, marks);
  const { verdict, severity } = overall(record?.phase ?? null, Boolean(record?.rolledBackAt), analyses);
  const from = record ? `${record.from.colour} ${record.from.version ?? "-"}` : "?";
  const to = record ? `${record.to.colour} ${record.to.version ?? version}` : "?";
  const lines: string[] = [];
  if (record?.reason) lines.push(`Reason: ${record.reason}`);
  for (const a of analyses)
    lines.push(`${a.phase} (${a.canary} vs ${a.baseline}, baseline ${a.baselineFrom}): ${a.summary}`);
  if (analyses.length === 0) lines.push("No analysis ran for this deploy.");
  return {
    title: `${service}: ${record?.kind ?? "deploy"} ${id} of ${version}`,
    headline: `${from} → ${to}; phase ${record?.phase ?? "unknown"}${record?.switchedAt ? `, switched ${clock(record.switchedAt)}` : ""}${record?.rolledBackAt ? `, rolled back ${clock(record.rolledBackAt)}` : ""}`,
    verdict,
    severity,
    lines,
    errorRate,
    latency,
    volume,
    marks,
    spans,
    live,
    analyses,
    generatedAt: new Date().toISOString(),
    startedAt: record ? Date.parse(record.startedAt) : null,
  };
}

/** The live colour over the deploy: from its start (or the first sample) to its end (or the last sample). */
function liveSpans(journal: JournalContents, marks: readonly ReportMark[]): ReportLiveSpan[] {
  const { record, ticks } = journal;
  if (!record) return [];
  const times = [Date.parse(record.startedAt), ...ticks.map((t) => t.at), ...marks.map((m) => m.at)];
  if (record.endedAt) times.push(Date.parse(record.endedAt));
  const start = Math.min(...times);
  const end = Math.max(...times);
  const label = (side: typeof record.from) => `${side.colour} ${side.version ?? ""} live`.replace("  ", " ");
  const switched = record.switchedAt ? Date.parse(record.switchedAt) : null;
  const back = record.rolledBackAt ? Date.parse(record.rolledBackAt) : null;
  if (switched === null)
    return [{ from: start, to: end, colour: record.from.colour, label: label(record.from) }];
  const spans: ReportLiveSpan[] = [
    { from: start, to: switched, colour: record.from.colour, label: label(record.from) },
    { from: switched, to: back ?? end, colour: record.to.colour, label: label(record.to) },
  ];
  if (back !== null)
    spans.push({ from: back, to: end, colour: record.from.colour, label: label(record.from) });
  return spans;
}

function overall(
  phase: string | null,
  rolledBack: boolean,
  analyses: readonly JournalAnalysis[],
): { verdict: string; severity: ReportModel["severity"] } {
  if (rolledBack) return { verdict: "Rolled back", severity: "bad" };
  if (phase === "Aborted") return { verdict: "Aborted", severity: "bad" };
  const last = analyses.at(-1);
  if (last === undefined)
    return { verdict: phase ?? "Unknown", severity: phase === "Healthy" ? "good" : "warning" };
  const severity = last.verdict === "Pass" ? "good" : last.verdict === "Fail" ? "bad" : "warning";
  return { verdict: last.verdict, severity };
}

function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}
