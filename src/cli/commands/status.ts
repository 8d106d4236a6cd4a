import type { Colour } from "../../colour.js";
import type { LoadedConfig } from "../../config/load.js";
import type { ControlPlane } from "../../control/control-plane.js";
import { type DeployRecord, isFinal } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { hasCode } from "../../errors.js";
import { latestReport } from "../../report/report-location.js";
import type { Output } from "../output.js";
import { changeKey, renderHistory, renderRecordedStatus, renderStatus, statusLine } from "../render.js";
import { liveOrRecorded } from "./offline-state.js";
import { POLL_MS, statusFeed } from "./status-feed.js";

/** How many rows of a terminal `columns` wide `text` takes (a long line wraps onto several). */
function screenLines(text: string, columns: number): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes take no room
  const visible = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, "").length;
  return text.split("\n").reduce((rows, line) => rows + Math.max(1, Math.ceil(visible(line) / columns)), 0);
}

function withRecord(status: ServiceStatus, record: DeployRecord): ServiceStatus {
  if (isFinal(record.phase))
    return { ...status, deploy: status.deploy?.id === record.id ? null : status.deploy, lastDeploy: record };
  // Live as of that record: the target once it switched (and did not switch back), else the source.
  const active = record.switchedAt && !record.rolledBackAt ? record.to.colour : record.from.colour;
  const view = (colour: Colour) => ({
    ...status.colours[colour],
    role: colour === active ? ("active" as const) : ("idle" as const),
  });
  return { ...status, active, colours: { blue: view("blue"), green: view("green") }, deploy: record };
}

/** A status read that failed because the daemon went away: null (the watch ends); other errors stand. */
function gone(error: unknown): null {
  if (hasCode(error, "DAEMON_NOT_RUNNING") || hasCode(error, "SHUTDOWN")) return null;
  throw error;
}

type WithControl = <T>(action: (control: ControlPlane) => Promise<T>) => Promise<T>;

/**
 * `cutover status`: the daemon's view; when it is not running, what .cutover/ recorded (said so, no live
 * replicas). Exit 0 unless nothing can be read.
 */
export async function statusCommand(
  loaded: LoadedConfig,
  withControl: WithControl,
  out: Output,
): Promise<number> {
  const read = await liveOrRecorded(loaded, () => withControl((c) => c.status()));
  const report = latestReport(loaded);
  const withReport = (text: string) => (report ? `${text}\n\nlatest report: ${report}` : text);
  if ("live" in read) {
    const status = read.live;
    out.result({ ...status, latestReport: report }, () => withReport(renderStatus(status)));
    return 0;
  }
  const { state, history, dataPlane } = read.recorded;
  const lastDeploy = history.at(-1) ?? null;
  out.result(
    {
      service: loaded.config.service,
      daemon: "not running",
      dataPlane,
      active: state?.active ?? null,
      colours: state?.colours ?? null,
      deploy: state?.current ?? null,
      lastDeploy,
      latestReport: report,
    },
    () => withReport(renderRecordedStatus(loaded.config.service, state, history, dataPlane)),
  );
  return 0;
}

/** `cutover history`: from the daemon, or from .cutover/history.ndjson when it is not running. */
export async function historyCommand(
  loaded: LoadedConfig,
  withControl: WithControl,
  out: Output,
  limit: number | undefined,
): Promise<void> {
  const read = await liveOrRecorded(loaded, () => withControl((c) => c.history()));
  const all: readonly DeployRecord[] = "live" in read ? read.live : read.recorded.history;
  const shown = limit ? all.slice(-limit) : all;
  if (!("live" in read))
    process.stderr.write("cutover: the daemon is not running; this is the history recorded in .cutover/\n");
  out.result(shown, () => renderHistory(shown));
}

/**
 * `cutover status --watch`: the status at every change (a deploy's phase or step, a colour's state), until
 * Ctrl-C or the daemon goes away (exit 1). On a terminal the status is redrawn in place; otherwise one line
 * per change; with --json one status object per line. On Kubernetes the cluster is read every 2 s.
 */
export async function watchStatus(loaded: LoadedConfig, control: ControlPlane, out: Output): Promise<number> {
  const tty = Boolean(process.stdout.isTTY) && !out.json;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let lastKey = "";
  let drawnLines = 0;
  const show = (status: ServiceStatus) => {
    const key = changeKey(status);
    if (key === lastKey) return;
    lastKey = key;
    if (out.json) process.stdout.write(`${JSON.stringify(status)}\n`);
    else if (!tty) process.stdout.write(`${statusLine(status)}\n`);
    else {
      const text = `${renderStatus(status)}\n\n(watching; Ctrl-C to stop)`;
      // Back to the first line of the last drawing, clear to the end of the screen, draw again.
      const up = drawnLines > 0 ? `\x1b[${drawnLines}F` : "";
      process.stdout.write(`${up}\x1b[0J${text}\n`);
      drawnLines = screenLines(text, process.stdout.columns || 80);
    }
  };
  try {
    for await (const event of statusFeed(loaded, control, abort.signal)) {
      const status = event.type === "status" ? event.status : await control.status().catch(gone);
      if (status === null) break;
      // A deploy event is one change of the deploy: show that record (the status read after it may be a
      // few steps further already), with the colours as they are now.
      show(event.type === "deploy" ? withRecord(status, event.record) : status);
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  if (abort.signal.aborted) return 0;
  process.stderr.write(
    loaded.config.platform === "kubernetes"
      ? `cutover: stopped reading the cluster (every ${POLL_MS / 1000}s)\n`
      : "cutover: the daemon went away (its event stream ended); start it again with `cutover up`\n",
  );
  return 1;
}
