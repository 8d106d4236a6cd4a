import type { Logger } from "pino";
import { redactSecrets } from "../secrets.js";
import type { DeployRecord } from "./lifecycle.js";
import type { ServiceState, StateStorage } from "./ports/state-store.js";

/**
 * A copy of `value` with every secret cutover.yaml read from the environment put back as `${VAR}`: a
 * failure's reason can quote a replica's output or a command, and what is written here is kept for good.
 */
function redacted<T>(value: T): T {
  return JSON.parse(redactSecrets(JSON.stringify(value))) as T;
}

/** How long a failed write waits before it is tried again. */
const RETRY_MS = 250;

/**
 * Writes what must survive a restart, one write at a time and in order: the finished deploy records the
 * history does not have yet, then the service state as it is at that moment. A write that fails (a full
 * disk) is tried again every 250 ms until it goes through, so the files catch up with the daemon; `error`
 * says why they are behind meanwhile.
 */
export class StateWriter {
  readonly #store: StateStorage;
  readonly #logger: Logger;
  readonly #state: () => ServiceState;
  #saving: Promise<void> = Promise.resolve();
  /** Finished records the history file does not have yet (written before the state that drops them). */
  #unsaved: DeployRecord[] = [];
  #error: string | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  /** Writes queued before the last discard() are skipped. */
  #generation = 0;

  constructor(store: StateStorage, logger: Logger, state: () => ServiceState) {
    this.#store = store;
    this.#logger = logger;
    this.#state = state;
  }

  /** Why the last write of state or history failed; null once they are on disk. */
  get error(): string | null {
    return this.#error;
  }

  /** Adds a finished record to the history with the next write, ahead of the state. */
  addToHistory(record: DeployRecord): void {
    this.#unsaved.push(structuredClone(record));
  }

  /** Queues a write. */
  save(): void {
    const generation = this.#generation;
    this.#saving = this.#saving.then(() => (generation === this.#generation ? this.#write() : undefined));
  }

  /**
   * Drops every write not yet done, and stops retrying: what this process would write is no longer its to
   * write (another process took its deploy over).
   */
  discard(): void {
    this.#generation += 1;
    this.#unsaved = [];
    this.stopRetrying();
    this.#error = null;
  }

  /** Writes now and waits until this write is done (or has failed and is scheduled again). */
  async flush(): Promise<void> {
    this.save();
    await this.#saving;
  }

  /** Waits for the writes already asked for, without asking for another. */
  async idle(): Promise<void> {
    await this.#saving;
  }

  /** No more retries: for an engine that is closing, after its last flush. */
  stopRetrying(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  async #write(): Promise<void> {
    try {
      for (const record of [...this.#unsaved]) {
        await this.#store.appendHistory(redacted(record));
        this.#unsaved = this.#unsaved.filter((r) => r !== record);
      }
      await this.#store.saveState(redacted(this.#state()));
      if (this.#error) this.#logger.info("state and history written again");
      this.#error = null;
    } catch (error) {
      if (!this.#error) this.#logger.error({ err: (error as Error).message }, "state write failed; retrying");
      this.#error = (error as Error).message;
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = null;
        this.save();
      }, RETRY_MS).unref();
    }
  }
}
