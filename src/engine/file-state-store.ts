import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isColour } from "../colour.js";
import { CutoverError } from "../errors.js";
import { writeFileAtomic } from "./atomic-write.js";
import type { DeployRecord } from "./deploy-record.js";
import type { ServiceState, StateStore } from "./state-store.js";

export const STATE_FILE = "state.json";
export const HISTORY_FILE = "history.json";

/** Keeps state.json and history.json in the state folder (.cutover/), each write atomic. */
export class FileStateStore implements StateStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
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

  /** One daemon owns the folder (daemon.json says which), and it holds the lock in memory: nothing to do here. */
  async claim(_record: DeployRecord): Promise<void> {}

  async takeOver(_record: DeployRecord): Promise<string | null> {
    return null;
  }

  async loadHistory(): Promise<DeployRecord[]> {
    const data = this.#read(HISTORY_FILE);
    if (data === undefined) return [];
    if (!Array.isArray(data)) {
      throw new CutoverError("STATE_CORRUPT", `${join(this.#dir, HISTORY_FILE)} is not a list of deploys`);
    }
    return data as DeployRecord[];
  }

  /** Adds `record` to the history, replacing an entry with the same id (so a retry never duplicates one). */
  async appendHistory(record: DeployRecord): Promise<void> {
    const history = (await this.loadHistory()).filter((r) => r.id !== record.id);
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

export function isServiceState(value: unknown): value is ServiceState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<ServiceState>;
  return state.schemaVersion === 1 && isColour(state.active) && typeof state.colours === "object";
}
