import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/atomic-write.js";
import { CutoverError } from "../errors.js";
import type { FleetRecord } from "./model/fleet-record.js";

/**
 * Where the runner keeps fleet deploys (fleet.stateDir): `current.json`, the latest one (written whole,
 * atomically, at every change), and `history.ndjson`, one line per fleet deploy that ended. Each region's
 * own deploys stay in that region's cutover; this holds what only the runner knows: the waves, each
 * region's version before, the verdicts, and why the fleet halted.
 */
export class FleetStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get dir(): string {
    return this.#dir;
  }

  current(): FleetRecord | null {
    const path = join(this.#dir, "current.json");
    if (!existsSync(path)) return null;
    try {
      return JSON.parse(readFileSync(path, "utf8")) as FleetRecord;
    } catch (error) {
      throw new CutoverError(
        "STATE_CORRUPT",
        `${path} is not a fleet deploy record (${(error as Error).message}); move it away to start afresh`,
      );
    }
  }

  save(record: FleetRecord): void {
    mkdirSync(this.#dir, { recursive: true });
    writeFileAtomic(join(this.#dir, "current.json"), `${JSON.stringify(record, null, 2)}\n`);
    if (record.phase !== "Progressing")
      appendFileSync(join(this.#dir, "history.ndjson"), `${JSON.stringify(record)}\n`);
  }

  history(): FleetRecord[] {
    const path = join(this.#dir, "history.ndjson");
    if (!existsSync(path)) return [];
    const byId = new Map<string, FleetRecord>();
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      try {
        const record = JSON.parse(line) as FleetRecord;
        byId.delete(record.id);
        byId.set(record.id, record);
      } catch {
        // a line a crash cut short: its fleet deploy is still in current.json
      }
    }
    return [...byId.values()];
  }
}
