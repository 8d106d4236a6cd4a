import pc from "picocolors";
import type { SyncReading } from "../engine/ports/database-sync.js";

/** A byte count the way a person reads it: 0 B, 812 B, 14.2 kB, 3.1 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1_000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1_000;
  let unit = 0;
  while (value >= 1_000 && unit < units.length - 1) {
    value /= 1_000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The database sync in a few lines: its state and direction, the lag, and each slot (abandoned ones in red). */
export function renderSync(reading: SyncReading): string[] {
  const direction = reading.source && reading.follower ? ` ${reading.source} -> ${reading.follower}` : "";
  const lag =
    reading.lagBytes === null
      ? ""
      : `, ${formatBytes(reading.lagBytes)} behind${reading.lagSeconds === null ? "" : ` (${reading.lagSeconds.toFixed(1)} s)`}`;
  const state = reading.state === "streaming" ? pc.green(reading.state) : pc.yellow(reading.state);
  const lines = [`database sync: ${state}${direction}${lag}`];
  if (reading.applyErrors)
    lines.push(
      pc.red(
        `  the follower met ${reading.applyErrors} error(s) applying rows (replication stops at each until it is fixed): see its server log`,
      ),
    );
  if (reading.problem) lines.push(pc.red(`  could not read it: ${reading.problem}`));
  for (const slot of reading.slots) {
    const line = `  slot ${slot.name} on ${slot.database}: ${slot.active ? "active" : "inactive"}, keeps ${formatBytes(slot.retainedBytes)} of WAL`;
    lines.push(
      slot.abandoned
        ? pc.red(
            `${line}; abandoned (no subscription uses it, and it fills the disk): \`cutover db sync stop\` drops it`,
          )
        : line,
    );
  }
  return lines;
}
