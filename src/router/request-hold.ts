import type { Logger } from "pino";
import type { Colour } from "../colour.js";
import type { HoldResult, HoldState, RequestHold } from "../engine/ports/traffic-router.js";
import { CutoverError } from "../errors.js";
import type { ColourLane } from "./colour-lane.js";
import type { HeldRequest } from "./held-request.js";
import type { HoldCounts } from "./router-metrics.js";

/** Requests the built-in router holds at most by default; the next ones get 503 with Retry-After. */
export const DEFAULT_HOLD_LIMIT = 10_000;
/** setTimeout fires at once for a longer delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RouterHoldOptions {
  /** The lane of the colour active now: read at the release, so a switch by another thread counts. */
  readonly activeLane: () => ColourLane;
  readonly lane: (colour: Colour) => ColourLane;
  /** Requests held at most at once. */
  readonly limit: number;
  readonly logger: Logger;
}

/**
 * Throws what a new hold of `timeoutMs` gets while `current` is on (HOLD_ACTIVE), or with a timeout a timer
 * cannot keep (BAD_TIMEOUT).
 */
export function checkNewHold(
  current: Pick<HoldState, "since" | "releaseAt" | "reason"> | null,
  timeoutMs: number,
): void {
  if (current !== null) {
    throw new CutoverError(
      "HOLD_ACTIVE",
      `requests are held already since ${new Date(current.since).toISOString()} (${current.reason}); ` +
        `run \`cutover resume\` first, or wait until ${new Date(current.releaseAt).toISOString()} when it releases itself`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
    throw new CutoverError(
      "BAD_TIMEOUT",
      `a hold needs a timeout from 1 ms to ${MAX_TIMER_MS} ms, got ${timeoutMs}`,
    );
  }
}

/** The hold that is on. */
interface Hold {
  readonly since: number;
  readonly releaseAt: number;
  readonly reason: string;
  readonly timer: NodeJS.Timeout;
  /** In arrival order (a Map iterates in insertion order), each with the function that stops watching its client. */
  readonly waiting: Map<HeldRequest, () => void>;
  gone: number;
  refused: number;
  readonly end: (result: HoldResult) => void;
  readonly ended: Promise<HoldResult>;
}

/**
 * The built-in router's hold of new requests (RequestHold): while it is on, the main listener queues each
 * new request (HeldRequest) instead of sending it to a colour; the release starts them all, in arrival
 * order, on the colour active at that moment. The queue lives on the router's thread (it holds sockets);
 * hold() and release() are called there, while the active colour may be switched from any thread.
 */
export class RouterHold implements RequestHold {
  readonly #o: RouterHoldOptions;
  readonly #log: Logger;
  #hold: Hold | null = null;
  readonly #totals = { released: 0, gone: 0, refused: 0, releasedHolds: 0, timedOutHolds: 0, ms: 0 };

  constructor(options: RouterHoldOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  /** Whether new requests are held now (the router's per-request check). */
  get on(): boolean {
    return this.#hold !== null;
  }

  hold(timeoutMs: number, reason: string): void {
    checkNewHold(this.#hold, timeoutMs);
    const since = Date.now();
    let end!: (result: HoldResult) => void;
    const ended = new Promise<HoldResult>((resolve) => {
      end = resolve;
    });
    const timer = setTimeout(() => this.#release(true), timeoutMs);
    this.#hold = {
      since,
      releaseAt: since + timeoutMs,
      reason,
      timer,
      waiting: new Map(),
      gone: 0,
      refused: 0,
      end,
      ended,
    };
    this.#log.info({ event: "hold", reason, timeoutMs }, `holding new requests (${reason})`);
  }

  release(): HoldResult {
    return this.#release(false);
  }

  /**
   * Ends the hold as its own timeout would (counted as timed out): for router workers, whose hold is timed
   * by the data plane process that drives them all.
   */
  expire(): HoldResult {
    return this.#release(true);
  }

  quiet(colour: Colour, timeoutMs: number): Promise<boolean> {
    return this.#o.lane(colour).inFlight.whenEmpty(timeoutMs);
  }

  holding(): HoldState | null {
    const hold = this.#hold;
    if (hold === null) return null;
    return { since: hold.since, held: hold.waiting.size, releaseAt: hold.releaseAt, reason: hold.reason };
  }

  released(): Promise<HoldResult | null> {
    return this.#hold?.ended ?? Promise.resolve(null);
  }

  /**
   * Queues `request` while a hold is on (true); false when none is, and the caller sends it on at once.
   * Beyond the limit it is answered 503 (counted as refused, not as a colour's answer: it reached none).
   */
  admit(request: HeldRequest): boolean {
    const hold = this.#hold;
    if (hold === null) return false;
    if (hold.waiting.size >= this.#o.limit) {
      hold.refused++;
      this.#totals.refused++;
      request.refuse(this.#o.activeLane().colour);
      return true;
    }
    const unwatch = request.watchGone(() => {
      if (!hold.waiting.delete(request)) return;
      hold.gone++;
      this.#totals.gone++;
    });
    hold.waiting.set(request, unwatch);
    return true;
  }

  /** Counters for the router's metrics, read at scrape time; the hold that is on counts its time so far. */
  counts(): HoldCounts {
    const t = this.#totals;
    const hold = this.#hold;
    return {
      held: hold?.waiting.size ?? 0,
      released: t.released,
      gone: t.gone,
      refused: t.refused,
      releasedHolds: t.releasedHolds,
      timedOutHolds: t.timedOutHolds,
      seconds: (t.ms + (hold === null ? 0 : Date.now() - hold.since)) / 1000,
    };
  }

  /** Closes the connections of what is held (the router is closing) and ends the hold. */
  close(): void {
    const hold = this.#hold;
    if (hold === null) return;
    for (const [request, unwatch] of hold.waiting) {
      unwatch();
      request.abandon();
    }
    hold.gone += hold.waiting.size;
    this.#totals.gone += hold.waiting.size;
    hold.waiting.clear();
    this.#release(false);
  }

  #release(timedOut: boolean): HoldResult {
    const hold = this.#hold;
    const lane = this.#o.activeLane();
    if (hold === null)
      return { held: 0, heldMs: 0, timedOut: false, colour: lane.colour, gone: 0, refused: 0 };
    this.#hold = null;
    clearTimeout(hold.timer);
    for (const [request, unwatch] of hold.waiting) {
      unwatch();
      try {
        request.start(lane);
      } catch (error) {
        // One request that cannot start must not leave the ones after it waiting forever.
        this.#log.error({ err: error, event: "release" }, "a held request could not be started");
        request.abandon();
      }
    }
    const heldMs = Date.now() - hold.since;
    const result: HoldResult = {
      held: hold.waiting.size,
      heldMs,
      timedOut,
      colour: lane.colour,
      gone: hold.gone,
      refused: hold.refused,
    };
    hold.waiting.clear();
    this.#totals.released += result.held;
    this.#totals.ms += heldMs;
    if (timedOut) this.#totals.timedOutHolds++;
    else this.#totals.releasedHolds++;
    const fields = { event: "release", reason: hold.reason, ...result };
    if (timedOut) this.#log.warn(fields, `hold (${hold.reason}) released by its timeout after ${heldMs} ms`);
    else this.#log.info(fields, `released ${result.held} held requests to ${lane.colour}`);
    hold.end(result);
    return result;
  }
}
