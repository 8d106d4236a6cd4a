import pc from "picocolors";
import type { Colour } from "../colour.js";
import { formatDuration } from "../duration.js";
import type { DeployRecord, StepRecord } from "../engine/lifecycle.js";
import type { ServiceState } from "../engine/ports/state-store.js";
import type { ColourView, ServiceStatus } from "../engine/service-status.js";
import { renderSync } from "./render-sync.js";

const paint = (colour: Colour, text: string) => (colour === "blue" ? pc.blue(text) : pc.green(text));

export function phaseText(phase: string): string {
  if (phase === "Healthy") return pc.green(phase);
  if (phase === "Aborted" || phase === "Degraded") return pc.red(phase);
  if (phase === "Paused") return pc.yellow(phase);
  return pc.cyan(phase);
}

export function renderStatus(status: ServiceStatus): string {
  const lines = [
    `${pc.bold(status.service)}  ${phaseText(status.health)}  live: ${paint(status.active, status.active)}`,
  ];
  for (const colour of ["blue", "green"] as const) lines.push(...renderColour(status.colours[colour]));
  if (status.stateWriteError) {
    lines.push(
      pc.red(
        `cannot write the state folder (${status.stateWriteError}); the daemon keeps trying: free space there`,
      ),
    );
  }
  if (status.hold) {
    const { since, held, releaseAt, reason } = status.hold;
    lines.push(
      pc.yellow(
        `new requests held since ${new Date(since).toISOString()} (${reason}): ${held} waiting; released by \`cutover resume\` or at ${new Date(releaseAt).toISOString()}`,
      ),
    );
  }
  if (status.databaseSync) lines.push(...renderSync(status.databaseSync));
  if (status.deploy) {
    const by = status.deployHolder ? ` (run by ${status.deployHolder})` : "";
    lines.push("", `deploy in progress${by}:`, ...renderRecord(status.deploy));
  } else if (status.lastDeploy) lines.push("", `last: ${summary(status.lastDeploy)}`);
  return lines.join("\n");
}

function renderColour(view: ColourView): string[] {
  const role = view.role === "active" ? pc.bold("active") : "idle";
  const version = view.version ?? (view.recordedVersion ? `${view.recordedVersion} (stopped)` : "-");
  const ready = view.replicas.filter((r) => r.ready).length;
  const restarts = view.replicas.reduce((sum, r) => sum + r.restarts, 0);
  const head = `  ${paint(view.colour, view.colour.padEnd(5))}  ${role.padEnd(6)}  ${version}  ${ready}/${view.replicas.length} ready  restarts ${restarts}  in flight ${view.inFlight}`;
  const scale = view.scaleDownAt ? [`      kept warm until ${view.scaleDownAt}`] : [];
  const replicas = view.replicas.map(
    (r) =>
      `      ${r.id}  :${r.port}  pid ${r.pid ?? "-"}  ${r.state}${r.lastProblem ? `  (${r.lastProblem})` : ""}`,
  );
  return [head, ...scale, ...replicas];
}

export function summary(record: DeployRecord): string {
  const took = record.endedAt
    ? formatDuration(Date.parse(record.endedAt) - Date.parse(record.startedAt))
    : "running";
  const move = `${record.from.colour} ${record.from.version ?? "-"} -> ${record.to.colour} ${record.to.version ?? "-"}`;
  const why = record.reason ? `: ${record.reason}` : "";
  return `${record.id} ${record.kind} ${record.version}  ${phaseText(record.phase)}  ${move}  ${took}  ${record.startedAt}${why}`;
}

export function renderRecord(record: DeployRecord): string[] {
  return [`  ${summary(record)}`, ...record.steps.map((s) => `    ${stepLine(s)}`)];
}

export function stepLine(step: StepRecord): string {
  const mark = { pending: "·", running: "…", succeeded: pc.green("✔"), failed: pc.red("✖"), skipped: "-" }[
    step.state
  ];
  const took = step.durationMs === undefined ? "" : ` (${formatDuration(step.durationMs)})`;
  return `${mark} ${step.name}${took}${step.detail ? `: ${step.detail}` : ""}`;
}

export function renderHistory(history: readonly DeployRecord[]): string {
  if (history.length === 0) return "no deploys yet";
  return history.map(summary).join("\n");
}

/** What `status --watch` counts as a change: the deploy's phase and steps, and each colour's state. */
export function changeKey(status: ServiceStatus): string {
  const colour = (view: ColourView) => ({
    version: view.version,
    recorded: view.recordedVersion,
    role: view.role,
    running: view.running,
    replicas: view.replicas.map((r) => [r.id, r.state, r.ready]),
  });
  const record = (r: DeployRecord | null) =>
    r && { id: r.id, phase: r.phase, steps: r.steps.map((s) => [s.name, s.state]) };
  return JSON.stringify({
    health: status.health,
    active: status.active,
    blue: colour(status.colours.blue),
    green: colour(status.colours.green),
    deploy: record(status.deploy),
    last: status.deploy ? null : record(status.lastDeploy),
  });
}

/** One line of a status, for `status --watch` when the output is not a terminal. */
export function statusLine(status: ServiceStatus): string {
  const colour = (view: ColourView) => {
    const ready = view.replicas.filter((r) => r.ready).length;
    const states = view.replicas.map((r) => r.state).join(",");
    const live = view.role === "active" ? "*" : "";
    return `${view.colour}${live} ${view.version ?? "-"} ${ready}/${view.replicas.length}${states ? ` [${states}]` : ""}`;
  };
  const parts = [
    new Date().toISOString().slice(11, 23),
    status.service,
    phaseText(status.health),
    colour(status.colours.blue),
    colour(status.colours.green),
  ];
  const deploy = status.deploy;
  if (deploy) {
    // The step running (or failed), else the last one that ended.
    const step =
      deploy.steps.find((s) => s.state === "running" || s.state === "failed") ??
      [...deploy.steps].reverse().find((s) => s.state !== "pending");
    parts.push(
      `${deploy.id} ${deploy.kind} ${deploy.version} ${phaseText(deploy.phase)}${step ? ` ${step.name} ${step.state}` : ""}`,
    );
  } else if (status.lastDeploy) {
    const last = status.lastDeploy;
    parts.push(`last ${last.id} ${last.kind} ${last.version} ${phaseText(last.phase)}`);
  }
  return parts.join("  ");
}

/** `cutover status` while the daemon is down: what .cutover/ recorded, no live replicas. */
export function renderRecordedStatus(
  service: string,
  state: ServiceState | null,
  history: readonly DeployRecord[],
  dataPlane: { readonly pid: number; readonly listen: string } | null = null,
): string {
  const lines = [
    `${pc.bold(service)}  ${pc.red("daemon not running")}  (recorded state; start it with \`cutover up\`)`,
  ];
  if (dataPlane)
    lines.push(
      `  the data plane (pid ${dataPlane.pid}) still serves ${dataPlane.listen}; \`cutover up\` takes it over, \`cutover down\` stops it`,
    );
  if (state) {
    lines.push(`  live: ${paint(state.active, state.active)}`);
    for (const colour of ["blue", "green"] as const) {
      const recorded = state.colours[colour];
      const role = colour === state.active ? pc.bold("active") : "idle";
      lines.push(
        `  ${paint(colour, colour.padEnd(5))}  ${role.padEnd(6)}  ${recorded.version ?? "-"}  ${recorded.running ? "was running" : "stopped"}`,
      );
    }
    if (state.current) lines.push("", "deploy recorded as in progress:", ...renderRecord(state.current));
  }
  const last = history.at(-1);
  if (last && !state?.current) lines.push("", `last: ${summary(last)}`);
  return lines.join("\n");
}
