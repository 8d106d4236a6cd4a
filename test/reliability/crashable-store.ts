/**
 * The FileStateStore, with a switch that models the death of the daemon's process: after freeze() no write
 * reaches the disk and no call ever completes, so an engine that was dropped mid-step can change nothing.
 * freezeAfter(n) lets n more writes through first: a crash between any two writes of a step.
 */
import type { DeployRecord } from "../../src/engine/deploy-record.js";
import { FileStateStore } from "../../src/engine/file-state-store.js";
import type { ServiceState, StateStore } from "../../src/engine/ports/state-store.js";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

export class CrashableStore implements StateStore {
  readonly #files: FileStateStore;
  #frozen = false;
  #budget = Number.POSITIVE_INFINITY;
  #onFrozen: Array<() => void> = [];
  #freezeOnHistory = false;

  constructor(dir: string) {
    this.#files = new FileStateStore(dir);
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  freeze(): void {
    this.#frozen = true;
    for (const wake of this.#onFrozen.splice(0)) wake();
  }

  /** Freezes at the (n+1)-th write from now; resolves when it froze. */
  freezeAfter(writes: number): Promise<void> {
    this.#budget = writes;
    if (writes <= 0) this.freeze();
    return this.#frozen ? Promise.resolve() : new Promise((resolve) => this.#onFrozen.push(resolve));
  }

  /** Freezes at the next history write (the end of an operation); resolves when it froze. */
  freezeAtHistoryWrite(): Promise<void> {
    this.#freezeOnHistory = true;
    return new Promise((resolve) => this.#onFrozen.push(resolve));
  }

  loadState(): Promise<ServiceState | null> {
    return this.#frozen ? never() : this.#files.loadState();
  }

  loadHistory(): Promise<DeployRecord[]> {
    return this.#frozen ? never() : this.#files.loadHistory();
  }

  claim(record: DeployRecord): Promise<void> {
    return this.#frozen ? never() : this.#files.claim(record);
  }

  takeOver(record: DeployRecord): Promise<string | null> {
    return this.#frozen ? never() : this.#files.takeOver(record);
  }

  saveState(state: ServiceState): Promise<void> {
    return this.#write(() => this.#files.saveState(state));
  }

  appendHistory(record: DeployRecord): Promise<void> {
    if (this.#freezeOnHistory) this.freeze();
    return this.#write(() => this.#files.appendHistory(record));
  }

  #write(write: () => Promise<void>): Promise<void> {
    if (this.#frozen) return never();
    if (this.#budget <= 0) {
      this.freeze();
      return never();
    }
    this.#budget -= 1;
    return write();
  }
}
