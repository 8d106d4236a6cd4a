import type { DrainResult } from "../engine/ports/traffic-router.js";

/** A request or WebSocket being served; the router may end it early. */
export interface InFlight {
  /** Ends it now (drain deadline or router shutdown). Must remove it from its set. */
  cancel(): void;
  /** Where its InFlightSet keeps it; the set's business alone. Start it at -1 (in no set). */
  inFlightSlot: number;
}

/**
 * What is in flight on one colour, and the wait for it to finish. Entries live in a plain array, each one
 * knowing its slot, so that adding and removing (twice per request) allocate nothing: a JS Set churned at
 * this rate made V8's scavenges cost the router 3x as much time (bench/cpu-profile.md).
 */
export class InFlightSet {
  readonly #entries: (InFlight | undefined)[] = [];
  #size = 0;
  readonly #watchers = new Set<(entry: InFlight) => void>();

  get size(): number {
    return this.#size;
  }

  add(entry: InFlight): void {
    entry.inFlightSlot = this.#size;
    this.#entries[this.#size++] = entry;
  }

  delete(entry: InFlight): void {
    const entries = this.#entries;
    const slot = entry.inFlightSlot;
    if (slot < 0 || slot >= this.#size || entries[slot] !== entry) return;
    // The last entry takes the freed slot; the array keeps its length (no shrinking and growing back).
    const lastSlot = --this.#size;
    const last = entries[lastSlot] as InFlight;
    entries[slot] = last;
    last.inFlightSlot = slot;
    entries[lastSlot] = undefined;
    entry.inFlightSlot = -1;
    if (this.#watchers.size === 0) return;
    for (const watcher of this.#watchers) watcher(entry);
  }

  /** What is in flight now, as a new array. */
  #current(): InFlight[] {
    return this.#entries.slice(0, this.#size) as InFlight[];
  }

  /** Waits for what is in flight now to finish; at `timeoutMs` cancels the rest. */
  drain(timeoutMs: number): Promise<DrainResult> {
    const waiting = new Set(this.#current());
    const total = waiting.size;
    if (total === 0) return Promise.resolve({ completed: 0, cancelled: 0 });
    return new Promise((resolve) => {
      const watcher = (entry: InFlight): void => {
        if (waiting.delete(entry) && waiting.size === 0) finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        const cancelled = waiting.size;
        for (const entry of waiting) entry.cancel();
        resolve({ completed: total - cancelled, cancelled });
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      this.#watchers.add(watcher);
    });
  }

  /** Resolves true once nothing is in flight (at once when nothing is), false at `timeoutMs`; cancels nothing. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const watcher = (): void => {
        if (this.#size === 0) finish(true);
      };
      const finish = (empty: boolean): void => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        resolve(empty);
      };
      const timer = setTimeout(() => finish(this.#size === 0), Math.max(0, timeoutMs));
      this.#watchers.add(watcher);
    });
  }

  /** Cancels everything in flight. */
  cancelAll(): number {
    const entries = this.#current();
    for (const entry of entries) entry.cancel();
    return entries.length;
  }
}
