import type { SyncReading } from "../../engine/ports/database-sync.js";
import { setText } from "./dom.js";

function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/**
 * One line under the colour cards when the colours' databases are kept in sync (database.sync: logical):
 * the direction, the state and the lag, and a warning for a slot nothing uses (it fills the disk).
 */
export class SyncLine {
  readonly #node: HTMLElement;

  constructor(node: HTMLElement) {
    this.#node = node;
  }

  update(reading: SyncReading | null | undefined): void {
    this.#node.hidden = reading == null;
    if (reading == null) return;
    const direction =
      reading.source && reading.follower ? ` ${reading.source}'s database → ${reading.follower}'s` : "";
    const lag =
      reading.lagBytes === null
        ? ""
        : `, ${bytes(reading.lagBytes)} behind${reading.lagSeconds === null ? "" : ` (${reading.lagSeconds.toFixed(1)} s)`}`;
    const abandoned = reading.slots.filter((s) => s.abandoned);
    const warning =
      abandoned.length > 0
        ? ` · ${abandoned.length} abandoned replication slot(s) keep WAL: run \`cutover db sync stop\``
        : reading.applyErrors
          ? ` · ${reading.applyErrors} apply error(s) on the follower: see its server log`
          : reading.problem
            ? ` · could not read it: ${reading.problem}`
            : "";
    this.#node.dataset.state = reading.state;
    this.#node.classList.toggle("warning", warning !== "" || reading.state !== "streaming");
    setText(this.#node, `Database sync: ${reading.state}${direction}${lag}${warning}`);
  }
}
