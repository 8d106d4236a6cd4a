import type { Colour } from "../colour.js";
import type { DrainResult } from "./ports/traffic-router.js";

/** A scale-down waiting for its delay: `done` settles when it has run (or was cancelled). */
interface Scheduled {
  readonly timer: NodeJS.Timeout;
  readonly at: number;
  readonly done: Promise<void>;
  readonly cancel: () => void;
}

export interface ScaleDown {
  /** Still idle? A colour that became live again (a rollback) or the target of a new deploy is not. */
  readonly idle: () => Promise<boolean>;
  /** Stops the colour's replicas. */
  readonly stop: () => Promise<void>;
  /** After it stopped (the engine saves, tells, and may run contract migrations). */
  readonly afterStop: () => Promise<void>;
}

/**
 * The old colour's timers: its drain after a switch, its scale-down after the delay (kept warm meanwhile
 * for an instant rollback), the stop while it runs. The engine says when; this keeps the timers and the
 * promises to wait on, so nobody polls.
 */
export class ColourKeeper {
  readonly #delayMs: number;
  readonly #scheduled = new Map<Colour, Scheduled>();
  /** Scale-downs whose delay is over: the colour stopping, then what follows. */
  readonly #running = new Set<Promise<void>>();
  readonly #drains = new Map<Colour, Promise<DrainResult>>();
  readonly #stopping = new Map<Colour, Promise<void>>();

  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }

  /** The drain of the colour traffic just left (requests in flight finishing on it). */
  draining(colour: Colour, drain: Promise<DrainResult>): void {
    this.#drains.set(colour, drain);
  }

  /** When the colour's scale-down is due (epoch ms), or null when none is scheduled. */
  scaleDownAt(colour: Colour): number | null {
    return this.#scheduled.get(colour)?.at ?? null;
  }

  /** Resolves once the colour is not being stopped by a scale-down. */
  async notStopping(colour: Colour): Promise<void> {
    await this.#stopping.get(colour);
  }

  /** Before a colour takes a new version: cancel its scale-down and wait for its drain to end. */
  async makeIdle(colour: Colour): Promise<void> {
    this.cancel(colour);
    await this.#drains.get(colour);
    this.#drains.delete(colour);
  }

  /** Keeps the colour warm for the delay, then drains and stops it, unless it is no longer idle by then. */
  schedule(colour: Colour, scaleDown: ScaleDown): number {
    this.cancel(colour);
    const at = Date.now() + this.#delayMs;
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const timer = setTimeout(() => {
      this.#scheduled.delete(colour);
      const run = this.#run(colour, scaleDown).finally(() => {
        this.#running.delete(run);
        finish();
      });
      this.#running.add(run);
    }, this.#delayMs);
    this.#scheduled.set(colour, { timer, at, done, cancel: finish });
    return at;
  }

  cancel(colour: Colour): void {
    const pending = this.#scheduled.get(colour);
    if (pending) {
      clearTimeout(pending.timer);
      pending.cancel();
    }
    this.#scheduled.delete(colour);
  }

  /** Cancels every scheduled scale-down and waits for those already under way (shutdown). */
  async close(): Promise<void> {
    for (const colour of [...this.#scheduled.keys()]) this.cancel(colour);
    await Promise.allSettled([...this.#running]);
  }

  /** Cancels every scheduled scale-down; those under way go on (an engine that lets go of a paused deploy). */
  cancelAll(): void {
    for (const colour of [...this.#scheduled.keys()]) this.cancel(colour);
  }

  /** Resolves once no scale-down is scheduled or running, what follows a stop included. */
  async done(): Promise<void> {
    while (this.#scheduled.size > 0 || this.#running.size > 0) {
      const scheduled = [...this.#scheduled.values()].map((s) => s.done);
      await Promise.all([...scheduled, ...this.#running]);
    }
  }

  async #run(colour: Colour, scaleDown: ScaleDown): Promise<void> {
    if (!(await scaleDown.idle())) return;
    await this.#drains.get(colour);
    // No longer idle, or scheduled again meanwhile: that one decides.
    if (!(await scaleDown.idle()) || this.#scheduled.has(colour)) return;
    this.#drains.delete(colour);
    const stop = scaleDown.stop();
    this.#stopping.set(colour, stop);
    await stop.finally(() => this.#stopping.delete(colour));
    await scaleDown.afterStop();
  }
}
