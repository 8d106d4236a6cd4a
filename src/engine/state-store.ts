import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Colour } from "../colour.js";
import { isColour } from "../colour.js";
import { CutoverError } from "../errors.js";
import { writeFileAtomic } from "./atomic-write.js";
import type { DeployRecord } from "./deploy-record.js";

export interface ColourState {
  /** The version this colour runs, or last ran; null when it never ran anything. */
  version: string | null;
  /** Whether its replicas are meant to be running. */
  running: boolean;
}

/** What survives a restart of the daemon: which colour is live with which versions, and the deploy in flight. */
export interface ServiceState {
  readonly schemaVersion: 1;
  active: Colour;
  colours: Record<Colour, ColourState>;
  /** The deploy or rollback in progress, if any. */
  current: DeployRecord | null;
  /** Sequence for deploy ids. */
  deploys: number;
}

export const STATE_FILE = "state.json";
export const HISTORY_FILE = "history.json";

/** Reads and writes state.json and history.json under the state folder, each write atomic. */
export class StateStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  get dir(): string {
    return this.#dir;
  }

  loadState(): ServiceState | null {
    const data = this.#read(STATE_FILE);
    if (data === undefined) return null;
    if (!isServiceState(data)) {
      throw new CutoverError(
        "STATE_CORRUPT",
        `${join(this.#dir, STATE_FILE)} is not a cutover state file; move it away and run \`cutover up\` again`,
      );
    }
    return data;
  }

  saveState(state: ServiceState): void {
    writeFileAtomic(join(this.#dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }

  loadHistory(): DeployRecord[] {
    const data = this.#read(HISTORY_FILE);
    if (data === undefined) return [];
    if (!Array.isArray(data)) {
      throw new CutoverError("STATE_CORRUPT", `${join(this.#dir, HISTORY_FILE)} is not a list of deploys`);
    }
    return data as DeployRecord[];
  }

  /** Adds `record` to the history, replacing an entry with the same id (so a retry never duplicates one). */
  appendHistory(record: DeployRecord): void {
    const history = this.loadHistory().filter((r) => r.id !== record.id);
    history.push(record);
    writeFileAtomic(join(this.#dir, HISTORY_FILE), `${JSON.stringify(history, null, 2)}\n`);
  }

  #read(name: string): unknown {
    const path = join(this.#dir, name);
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new CutoverError(
        "STATE_CORRUPT",
        `${path} cannot be read (${(error as Error).message}); move it away and run \`cutover up\` again`,
      );
    }
  }
}

function isServiceState(value: unknown): value is ServiceState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<ServiceState>;
  return state.schemaVersion === 1 && isColour(state.active) && typeof state.colours === "object";
}
