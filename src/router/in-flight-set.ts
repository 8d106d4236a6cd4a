import type { DrainResult } from "../engine/ports/traffic-router.js";

/** A request or WebSocket being served; the router may end it early. */
export interface InFlight {
  /** Ends it now (drain deadline or router shutdown). Must remove it from its set. */
  cancel(): void;
}

/** What is in flight on one colour, and the wait for it to finish. */
export class InFlightSet {
  readonly #entries = new Set<InFlight>();
  readonly #watchers = new Set<(entry: InFlight) => void>();

  get size(): number {
    return this.#entries.size;
  }

  add(entry: InFlight): void {
    this.#entries.add(entry);
  }

  delete(entry: InFlight): void {
    if (!this.#entries.delete(entry) || this.#watchers.size === 0) return;
    for (const watcher of this.#watchers) watcher(entry);
  }

  /** Waits for what is in flight now to finish; at `timeoutMs` cancels the rest. */
  drain(timeoutMs: number): Promise<DrainResult> {
    const waiting = new Set(this.#entries);
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
    if (this.#entries.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const watcher = (): void => {
        if (this.#entries.size === 0) finish(true);
      };
      const finish = (empty: boolean): void => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        resolve(empty);
      };
      const timer = setTimeout(() => finish(this.#entries.size === 0), Math.max(0, timeoutMs));
      this.#watchers.add(watcher);
    });
  }

  /** Cancels everything in flight. */
  cancelAll(): number {
    const entries = [...this.#entries];
    for (const entry of entries) entry.cancel();
    return entries.length;
  }
}
