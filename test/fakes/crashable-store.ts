/**
 * The store of one machine (the real FileStateStore under .cutover/, the real SingleProcessLease, no
 * channel), with a switch that models the death of the daemon's process: after freeze() no write reaches
 * the disk and no call ever completes, so an engine that was dropped mid-step can change nothing.
 * freezeAfter(n) lets n more writes through first: a crash between any two writes of a step.
 *
 * Only the freezing is added; the files, their atomic replacement and the history's replace-by-id are the
 * real code. A new process reads what the dead one left with `new CrashableStore(sameDir)`.
 */
import { FileStateStore } from "../../src/engine/file-state-store.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import type {
  DeployLease,
  ServiceState,
  StateStorage,
  StateStore,
} from "../../src/engine/ports/state-store.js";
import { SingleProcessLease } from "../../src/engine/single-process-lease.js";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

export class CrashableStore implements StateStore {
  readonly storage: CrashableStorage;
  readonly lease: DeployLease;
  readonly channel = null;

  constructor(dir: string) {
    this.storage = new CrashableStorage(dir);
    const storage = this.storage;
    const lease = new SingleProcessLease();
    // A dead process claims nothing either.
    this.lease = {
      claim: (record, recorded) => (storage.frozen ? never() : lease.claim(record, recorded)),
      takeOver: (record) => (storage.frozen ? never() : lease.takeOver(record)),
      letGo: () => lease.letGo(),
      onLost: (listener) => lease.onLost(listener),
      holder: () => lease.holder(),
    };
  }

  get frozen(): boolean {
    return this.storage.frozen;
  }

  freeze(): void {
    this.storage.freeze();
  }

  /** Freezes at the (n+1)-th write from now; resolves when it froze. */
  freezeAfter(writes: number): Promise<void> {
    return this.storage.freezeAfter(writes);
  }

  /** Freezes at the next history write (the end of an operation); resolves when it froze. */
  freezeAtHistoryWrite(): Promise<void> {
    return this.storage.freezeAtHistoryWrite();
  }
}

/** The FileStateStore's four calls, each of which hangs once frozen. */
export class CrashableStorage implements StateStorage {
  readonly #files: FileStateStore;
  #frozen = false;
  #budget = Number.POSITIVE_INFINITY;
  #onFrozen: Array<() => void> = [];
  #freezeOnHistory = false;
  readonly #saved = new Set<(state: ServiceState) => void>();

  constructor(dir: string) {
    this.#files = new FileStateStore(dir);
  }

  /** Resolves once a state that `wanted` accepts is on disk. */
  saved(wanted: (state: ServiceState) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const listener = (state: ServiceState) => {
        if (!wanted(state)) return;
        this.#saved.delete(listener);
        resolve();
      };
      this.#saved.add(listener);
    });
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  freeze(): void {
    this.#frozen = true;
    for (const wake of this.#onFrozen.splice(0)) wake();
  }

  freezeAfter(writes: number): Promise<void> {
    this.#budget = writes;
    if (writes <= 0) this.freeze();
    return this.#frozen ? Promise.resolve() : new Promise((resolve) => this.#onFrozen.push(resolve));
  }

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

  saveState(state: ServiceState): Promise<void> {
    return this.#write(async () => {
      await this.#files.saveState(state);
      for (const listener of [...this.#saved]) listener(state);
    });
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
