import type { Logger } from "pino";
import { GuardedProcess, type ProcessExit } from "../process/guarded-process.js";
import type { RunInfo, RunStart } from "./protocol.js";

interface Entry {
  readonly start: RunStart;
  readonly process: GuardedProcess;
  pid: number | null;
  exit: ProcessExit | null;
}

export interface RunEvents {
  pid(key: string, pid: number): void;
  exit(key: string, exit: ProcessExit): void;
}

/**
 * The replicas' runs in the data plane process: each through its guard, a child of this process, so a run
 * lives as long as this process does (not as long as the daemon). An ended run stays listed until a daemon
 * takes note of it (`forget`), so that one attaching later learns that it ended, and how.
 */
export class RunTable {
  readonly #entries = new Map<string, Entry>();
  readonly #log: Logger;
  #events: RunEvents | null = null;

  constructor(logger: Logger) {
    this.#log = logger.child({ component: "runs" });
  }

  /** Where pids and exits are told (the attached daemon), or null while none is attached. */
  tell(events: RunEvents | null): void {
    this.#events = events;
  }

  start(start: RunStart): void {
    if (this.#entries.get(start.key)?.exit === null)
      throw new Error(`a run named ${start.key} is running already`);
    const entry: Entry = {
      start,
      pid: null,
      exit: null,
      process: new GuardedProcess({
        ...start,
        onPid: (pid) => {
          entry.pid = pid;
          this.#events?.pid(start.key, pid);
        },
      }),
    };
    this.#entries.set(start.key, entry);
    void entry.process.exited.then((exit) => {
      entry.exit = exit;
      this.#log.info({ run: start.key, exit }, "run ended");
      this.#events?.exit(start.key, exit);
    });
  }

  terminate(key: string): Promise<ProcessExit> {
    const entry = this.#entries.get(key);
    if (!entry) return Promise.resolve({ code: null, signal: null, error: `no run named ${key}` });
    return entry.process.terminate();
  }

  forget(key: string): void {
    if (this.#entries.get(key)?.exit) this.#entries.delete(key);
  }

  list(): RunInfo[] {
    return [...this.#entries.values()].map(({ start, pid, exit }) => ({
      key: start.key,
      labels: start.labels,
      pid,
      exit,
    }));
  }

  /** Stops every run (SIGTERM, SIGKILL after its grace); resolves once all have ended. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((key) => this.terminate(key)));
  }
}
