import type { Colour } from "../colour.js";
import type { HoldResult, HoldState, RequestHold } from "../engine/ports/traffic-router.js";
import { checkNewHold } from "./request-hold.js";
import type { WorkerCall, WorkerState } from "./router-worker-protocol.js";

/** A worker's own timer on a hold, past the data plane's: it releases only if this process could not. */
const HOLD_BACKSTOP_MS = 5_000;

/** What the hold needs of the router workers (RouterWorkers). */
export interface HoldingWorkers {
  readonly active: Colour;
  /** Requests held now, over every worker, as of the last refresh. */
  held(): number;
  /** Sends `call` to every worker; resolves with the answers of those that did not die. */
  callAll<T>(call: WorkerCall): Promise<T[]>;
}

/**
 * A hold of new requests across the router workers: each worker holds what it receives; this side times the
 * hold and releases every worker at once, on the colour active then. A worker started during the hold holds
 * too, until the release.
 */
export class WorkersHold implements RequestHold {
  readonly #workers: HoldingWorkers;
  #hold: {
    readonly since: number;
    readonly releaseAt: number;
    readonly reason: string;
    readonly timer: NodeJS.Timeout;
    readonly end: (result: HoldResult) => void;
    readonly ended: Promise<HoldResult>;
  } | null = null;

  constructor(workers: HoldingWorkers) {
    this.#workers = workers;
  }

  async hold(timeoutMs: number, reason: string): Promise<void> {
    checkNewHold(this.#hold, timeoutMs);
    let end!: (result: HoldResult) => void;
    const ended = new Promise<HoldResult>((resolve) => {
      end = resolve;
    });
    const since = Date.now();
    const timer = setTimeout(() => void this.#release(true), timeoutMs);
    this.#hold = { since, releaseAt: since + timeoutMs, reason, timer, end, ended };
    await this.#workers.callAll({ method: "hold", timeoutMs: timeoutMs + HOLD_BACKSTOP_MS, reason });
  }

  release(): Promise<HoldResult> {
    return this.#release(false);
  }

  async quiet(colour: Colour, timeoutMs: number): Promise<boolean> {
    const answers = await this.#workers.callAll<boolean>({ method: "quiet", colour, timeoutMs });
    return answers.every(Boolean);
  }

  holding(): HoldState | null {
    const hold = this.#hold;
    if (hold === null) return null;
    return { since: hold.since, held: this.#workers.held(), releaseAt: hold.releaseAt, reason: hold.reason };
  }

  released(): Promise<HoldResult | null> {
    return this.#hold?.ended ?? Promise.resolve(null);
  }

  /** The hold a worker started now joins: what is left of it, past this side's own timer. */
  stateForNewWorker(): WorkerState["hold"] {
    const hold = this.#hold;
    if (hold === null) return null;
    return { reason: hold.reason, remainingMs: Math.max(1, hold.releaseAt - Date.now()) + HOLD_BACKSTOP_MS };
  }

  /** The router is closing: no timer left behind (the workers close what they hold). */
  stop(): void {
    if (this.#hold !== null) clearTimeout(this.#hold.timer);
  }

  async #release(timedOut: boolean): Promise<HoldResult> {
    const hold = this.#hold;
    const colour = this.#workers.active;
    if (hold === null) return { held: 0, heldMs: 0, timedOut: false, colour, gone: 0, refused: 0 };
    this.#hold = null;
    clearTimeout(hold.timer);
    const results = await this.#workers.callAll<HoldResult>({ method: "release", timedOut });
    const result: HoldResult = {
      held: results.reduce((sum, r) => sum + r.held, 0),
      heldMs: Date.now() - hold.since,
      timedOut,
      colour,
      gone: results.reduce((sum, r) => sum + r.gone, 0),
      refused: results.reduce((sum, r) => sum + r.refused, 0),
    };
    hold.end(result);
    return result;
  }
}
