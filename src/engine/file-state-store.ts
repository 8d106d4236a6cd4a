import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isColour } from "../colour.js";
import { CutoverError } from "../errors.js";
import { writeFileAtomic } from "./atomic-write.js";
import { HistoryLog } from "./history-log.js";
import type { DeployRecord } from "./lifecycle.js";
import type { ServiceState, StateStorage, StateStore } from "./ports/state-store.js";
import { SingleProcessLease } from "./single-process-lease.js";

export const STATE_FILE = "state.json";
export const HISTORY_FILE = "history.ndjson";
/** The history as one JSON list, as cutover kept it before; read once and replaced by HISTORY_FILE. */
const LEGACY_HISTORY_FILE = "history.json";

/** The store of one machine: files in `dir` (.cutover/), a daemon that is the only process acting, no one to ask. */
export function localStateStore(dir: string): StateStore & { readonly storage: FileStateStore } {
  return { storage: new FileStateStore(dir), lease: new SingleProcessLease(), channel: null };
}

/** Keeps state.json (replaced atomically) and history.ndjson (appended) in the state folder (.cutover/). */
export class FileStateStore implements StateStorage {
  readonly #dir: string;
  readonly #history: HistoryLog;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#history = new HistoryLog(join(dir, HISTORY_FILE), join(dir, LEGACY_HISTORY_FILE));
  }

  get dir(): string {
    return this.#dir;
  }

  async loadState(): Promise<ServiceState | null> {
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

  async saveState(state: ServiceState): Promise<void> {
    writeFileAtomic(join(this.#dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }

  async loadHistory(): Promise<DeployRecord[]> {
    return this.#history.read();
  }

  /** Adds `record` to the history; a record with the same id written before is replaced (a retry never duplicates one). */
  async appendHistory(record: DeployRecord): Promise<void> {
    this.#history.append(record);
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

export function isServiceState(value: unknown): value is ServiceState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<ServiceState>;
  return state.schemaVersion === 1 && isColour(state.active) && typeof state.colours === "object";
}
