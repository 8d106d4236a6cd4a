import pc from "picocolors";
import type { FleetRecord, FleetWaveRecord } from "../fleet/model/fleet-record.js";
import type { RegionReading } from "../fleet/model/fleet-view.js";
import { phaseText, summary } from "./render.js";

/** `cutover status` on a fleet: the fleet deploy (if any), then one block per region. */
export function renderFleetStatus(
  views: readonly RegionReading[],
  record: FleetRecord | null,
  runnerGone: boolean,
): string {
  const lines: string[] = [];
  if (record) lines.push(...renderFleetRecord(record), "");
  if (record?.phase === "Progressing" && runnerGone)
    lines.push(
      pc.red(
        `its runner (pid ${record.runner.pid} on ${record.runner.host}) is gone: run \`cutover abort\` to send the regions it switched back`,
      ),
      "",
    );
  for (const view of views) lines.push(...renderRegion(view, record));
  return lines.join("\n");
}

export function renderFleetRecord(record: FleetRecord): string[] {
  const head = `fleet deploy ${record.id} of ${pc.bold(record.version)}: ${phaseText(record.phase)}${record.reason ? ` (${record.reason})` : ""}`;
  return [
    head,
    ...record.waves.map((wave, i) => `  wave ${i + 1} [${wave.regions.join(", ")}] ${waveText(wave)}`),
  ];
}

function waveText(wave: FleetWaveRecord): string {
  const verdict = wave.verdict ? `: ${wave.verdict.verdict} (${wave.verdict.reason})` : "";
  if (wave.state === "baking") return `baking until ${wave.bakeEndsAt}${verdict}`;
  return `${wave.state}${verdict}`;
}

function renderRegion(view: RegionReading, record: FleetRecord | null): string[] {
  const inFleet = record?.regions[view.region];
  const fleet = inFleet ? `  fleet: ${inFleet.state}${inFleet.reason ? ` (${inFleet.reason})` : ""}` : "";
  if ("error" in view)
    return [`${pc.bold(view.region)}  ${pc.red("unreachable")} (${view.where}): ${view.error}${fleet}`];
  const { status } = view;
  const live = status.colours[status.active];
  const idle = status.colours[status.active === "blue" ? "green" : "blue"];
  const lines = [
    `${pc.bold(view.region)}  ${phaseText(status.health)}  live ${status.active} ${live.recordedVersion ?? "-"}, idle ${idle.colour} ${idle.recordedVersion ?? "-"}${idle.running ? " (warm)" : ""}${fleet}`,
  ];
  if (status.deploy) lines.push(`  deploy in progress: ${summary(status.deploy)}`);
  else if (status.lastDeploy) lines.push(`  last: ${summary(status.lastDeploy)}`);
  return lines;
}

/** One line per change of a fleet deploy, for `cutover deploy` on a fleet (plain, so CI logs read well). */
export function fleetChanges(previous: FleetRecord | null, next: FleetRecord): string[] {
  const lines: string[] = [];
  next.waves.forEach((wave, i) => {
    const before = previous?.waves[i];
    if (before?.state !== wave.state || (wave.verdict && !before?.verdict))
      lines.push(`wave ${i + 1} [${wave.regions.join(", ")}] ${waveText(wave)}`);
  });
  for (const region of Object.values(next.regions)) {
    const before = previous?.regions[region.name];
    if (before?.state !== region.state)
      lines.push(`  ${region.name}: ${region.state}${region.reason ? ` (${region.reason})` : ""}`);
  }
  return lines;
}
