import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, pino } from "pino";
import type { Alert } from "../analysis/alerts/alert.js";
import { WebhookSender } from "../analysis/alerts/webhook-sender.js";
import type { ColourSampler } from "../analysis/colour-sampler.js";
import type { CutoverAnalysis, DeployAnalysisReport } from "../analysis/cutover-analysis.js";
import type { Colour } from "../colour.js";
import type { LoadedConfig } from "../config/load.js";
import { DeployJournal } from "./deploy-journal.js";
import type { DeployRecordView } from "./deploy-journal-format.js";
import type { JournalShelf } from "./journal-shelf.js";
import { attachedReportDir } from "./report-location.js";
import type { WrittenReport } from "./write-report.js";
import { writeReportOffThread } from "./write-report-off-thread.js";

/** What is needed of the engine: its events (the engine's onEvent fits). */
export interface DeployEvents {
  onEvent(
    listener: (event: { readonly type: string; readonly record?: DeployRecordView }) => void,
  ): () => void;
}

export interface AlertsAndReportsOptions {
  readonly loaded: LoadedConfig;
  /** The analysis, when cutover.yaml has one; its sampler's ticks are recorded per deploy. */
  readonly analysis: CutoverAnalysis | null;
  /** The samples to chart when there is no analysis (the daemon always samples, so every deploy gets a report). */
  readonly sampler?: ColourSampler | null;
  readonly logger?: Logger;
  /** Time the charts go on after a deploy ends (to show where traffic settled). Default: 3 intervals, at most 10 s. */
  readonly tailMs?: number;
  /** Samples from before a deploy started, shown for context. Default 30 s. */
  readonly historyMs?: number;
  /** First webhook retry delay. Default 500 ms. */
  readonly webhookBackoffMs?: number;
  /** Where finished journals are kept for other runners (on Kubernetes: ConfigMaps); null: on disk only. */
  readonly journals?: JournalShelf | null;
}

export interface AlertsAndReports {
  /** Resolves once pending reports are written and webhook deliveries have finished. */
  idle(): Promise<void>;
  /** The last report written, if any. */
  readonly latestReport: WrittenReport | null;
  /** Stops listening; gives up webhook retries. */
  detach(): void;
}

interface Tracked {
  readonly journal: DeployJournal;
  readonly untick: () => void;
  lastPhase: string;
}

/**
 * Subscribes to the engine's deploy events and the analysis's reports: records each deploy's samples,
 * verdicts and final record in its journal, sends alerts (every verdict, rollback and failure) to the log
 * and the webhooks, and writes the deploy's HTML + PNG report once it is over. Nothing here can fail a
 * deploy: errors are logged.
 */
export function attachAlertsAndReports(
  engine: DeployEvents,
  options: AlertsAndReportsOptions,
): AlertsAndReports {
  const { loaded, analysis } = options;
  const log = (options.logger ?? pino({ enabled: false })).child({ component: "reports" });
  const config = loaded.config.analysis;
  const sampler = analysis?.sampler ?? options.sampler ?? null;
  const interval = sampler?.intervalMs ?? 1_000;
  const tailMs = options.tailMs ?? Math.min(3 * interval, 10_000);
  const webhooks = new WebhookSender({
    webhooks: config?.webhooks ?? [],
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.webhookBackoffMs === undefined ? {} : { backoffMs: options.webhookBackoffMs }),
  });
  const tracked = new Map<string, Tracked>();
  const pending = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let latestReport: WrittenReport | null = null;
  const service = loaded.config.service;

  /** Work `idle()` waits for; it never rejects (each caller logs its own failure). */
  const hold = (work: Promise<void>) => {
    const held = work.finally(() => pending.delete(held));
    pending.add(held);
  };

  const shelve = (id: string, path: string) => {
    if (!options.journals) return;
    hold(
      options.journals
        .put(id, path)
        .then(() => log.info({ deploy: id }, "deploy journal kept for other runners"))
        .catch((error: unknown) =>
          log.error({ deploy: id, err: (error as Error).message }, "cannot keep the deploy journal"),
        ),
    );
  };

  const alert = (fields: Omit<Alert, "service" | "at">) =>
    webhooks.send({ ...fields, service, at: new Date().toISOString() });

  const track = (record: DeployRecordView): Tracked => {
    const journal = new DeployJournal(loaded.stateDir, record.id, (error) =>
      log.error({ err: error.message, deploy: record.id }, "cannot write the deploy journal"),
    );
    journal.meta({
      deployId: record.id,
      service,
      version: record.version,
      source: config?.source.type ?? "none",
      intervalMs: interval,
    });
    const since = Date.parse(record.startedAt) - (options.historyMs ?? 30_000);
    for (const tick of sampler?.recent(since) ?? []) journal.tick(tick);
    const untick = sampler?.onTick((tick) => journal.tick(tick)) ?? (() => undefined);
    const entry = { journal, untick, lastPhase: "" };
    tracked.set(record.id, entry);
    return entry;
  };

  const finish = (record: DeployRecordView, entry: Tracked) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      entry.untick();
      entry.journal.record(record);
      tracked.delete(record.id);
      shelve(record.id, entry.journal.path);
      // Every deploy gets its report; a rollback's can be written on demand (`cutover report <id>`), so a
      // run of rollbacks does not queue renders.
      if (config?.report.enabled === false || record.kind === "rollback") return;
      hold(
        writeReportOffThread(entry.journal.path, attachedReportDir(loaded))
          .then((written) => {
            latestReport = written;
            log.info({ deploy: record.id, html: written.html, png: written.png }, "deploy report written");
          })
          .catch((error: unknown) =>
            log.error({ deploy: record.id, err: (error as Error).message }, "deploy report failed"),
          ),
      );
    }, tailMs);
    timers.add(timer);
  };

  const onDeploy = (record: DeployRecordView) => {
    const entry = tracked.get(record.id) ?? track(record);
    if (entry.lastPhase === record.phase) return;
    entry.lastPhase = record.phase;
    if (record.phase !== "Healthy" && record.phase !== "Aborted") return;
    const active: Colour =
      record.rolledBackAt || (record.phase === "Aborted" && record.kind === "deploy")
        ? record.from.colour
        : record.to.colour;
    if (record.rolledBackAt) {
      alert({
        kind: "rollback",
        severity: "error",
        deployId: record.id,
        version: record.version,
        active,
        text: `rolled back to ${record.from.colour} (${record.from.version ?? "?"}): ${record.reason ?? "no reason given"}`,
      });
    } else if (record.phase === "Aborted") {
      alert({
        kind: "failure",
        severity: "error",
        deployId: record.id,
        version: record.version,
        active,
        text: `${record.kind} ${record.id} of ${record.version} aborted: ${record.reason ?? "no reason given"}`,
      });
    } else if (record.kind === "rollback") {
      alert({
        kind: "rollback",
        severity: "warning",
        deployId: record.id,
        version: record.version,
        active,
        text: `rolled back by hand to ${record.to.colour} (${record.version})`,
      });
    }
    finish(record, entry);
  };

  const onReport = (report: DeployAnalysisReport) => {
    tracked.get(report.deployId)?.journal.analysis(report);
    const verdict = report.outcome.verdict;
    const severity = verdict === "Pass" ? "info" : verdict === "Fail" ? "error" : "warning";
    alert({
      kind: "verdict",
      severity,
      deployId: report.deployId,
      version: report.version,
      verdict,
      phase: report.phase,
      text: `${report.phase} analysis of ${report.canary} against ${report.baseline}: ${verdict}: ${report.outcome.summary}`,
    });
  };

  const offEngine = engine.onEvent((event) => {
    if (event.type !== "deploy" || event.record === undefined) return;
    try {
      onDeploy(event.record);
    } catch (error) {
      log.error({ err: (error as Error).message }, "alerts and reports: a deploy event failed");
    }
  });
  const offAnalysis = analysis?.onReport(onReport) ?? (() => undefined);

  return {
    get latestReport() {
      return latestReport;
    },
    async idle() {
      while (timers.size > 0 || pending.size > 0) {
        await Promise.all([...pending]);
        if (timers.size > 0) await sleep(20);
      }
      await webhooks.idle();
    },
    detach() {
      offEngine();
      offAnalysis();
      for (const entry of tracked.values()) entry.untick();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      webhooks.close();
    },
  };
}
