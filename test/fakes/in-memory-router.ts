/**
 * A TrafficRouter fake with the built-in router's semantics (src/router/router.ts), without sockets.
 *
 * Faithful to the real router:
 *   - switchTo() moves the active colour in one synchronous, atomic step and returns {from, to, at}; a switch
 *     to the colour already active returns from === to and does not count as a switch;
 *   - a request reads the active colour once, when it arrives (begin()), and stays on that colour until it
 *     ends, whatever switches happen meanwhile; the preview listener serves the other colour;
 *   - inFlight(colour) counts the requests on that colour that have not ended;
 *   - drain(colour, timeoutMs) is the real router's InFlightSet: it waits for the requests in flight on that
 *     colour when it is called (not those that arrive later) and resolves when the last of them ends, or at
 *     the deadline, when it cancels what is left; it says how many completed and how many were cancelled;
 *   - setEndpoints() replaces the colour's rotation at once, so settled() has nothing to wait for;
 *   - a request that arrives while its colour has no replica in rotation is answered 503 at once and is
 *     never in flight;
 *   - requestHold is the real router's RouterHold in memory: while a hold is on, a request arriving on the
 *     main listener (arrive()) waits, on no colour, and release() routes every waiting one, in arrival
 *     order, to the colour active at that moment; a hold releases itself at its timeout; holding twice
 *     throws HOLD_ACTIVE; quiet(colour) waits for the colour's in-flight set to empty and cancels nothing.
 *
 * Not modelled: HTTP itself (no bytes are proxied: a request is begin() and end()), stickiness, the
 * connect/headers/body timeouts, mirroring, WebSockets (a long-lived request stands in for one), metrics,
 * and the lag of a remote data plane (HAProxy's runtime API, kube-proxy), whose settled() does wait.
 * failNextSwitch() injects what only a remote data plane does: a switch that fails (the Kubernetes
 * Service patch refused); the built-in router's switch cannot fail.
 */
import type { Colour } from "../../src/colour.js";
import { otherColour } from "../../src/colour.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import type {
  DrainResult,
  HoldResult,
  HoldState,
  RequestHold,
  SwitchResult,
  TrafficRouter,
} from "../../src/engine/ports/traffic-router.js";
import { CutoverError } from "../../src/errors.js";
import { type InFlight, InFlightSet } from "../../src/router/in-flight-set.js";

/** One request the router accepted: on `colour`, to `replica`, until end() (or the router cancels it). */
export interface RoutedRequest {
  readonly colour: Colour;
  readonly replica: Endpoint;
  /** The response was sent. Ending a request twice, or after it was cancelled, does nothing. */
  end(): void;
  /** The router closed it (drain deadline or close()) before it ended. */
  readonly cancelled: boolean;
  /** Settles when the request ends or is cancelled: "ended" or "cancelled". */
  readonly settled: Promise<"ended" | "cancelled">;
}

export class InMemoryRouter implements TrafficRouter {
  #active: Colour;
  #switches = 0;
  readonly #rotation: Record<Colour, readonly Endpoint[]> = { blue: [], green: [] };
  readonly #next: Record<Colour, number> = { blue: 0, green: 0 };
  readonly #inFlight: Record<Colour, InFlightSet> = { blue: new InFlightSet(), green: new InFlightSet() };
  readonly #switchListeners = new Set<(result: SwitchResult) => void>();
  #failNext: Error | null = null;
  /** Every switch that moved traffic, in order. */
  readonly switchLog: SwitchResult[] = [];
  readonly requestHold: InMemoryHold = new InMemoryHold(
    () => this.#active,
    (colour) => this.#inFlight[colour],
  );

  constructor(initialActive: Colour = "blue") {
    this.#active = initialActive;
  }

  get active(): Colour {
    return this.#active;
  }

  /** Times the active colour changed. */
  get switches(): number {
    return this.#switches;
  }

  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void {
    this.#rotation[colour] = [...endpoints];
  }

  /** The replicas of `colour` in rotation now. */
  endpoints(colour: Colour): readonly Endpoint[] {
    return this.#rotation[colour];
  }

  switchTo(colour: Colour): SwitchResult {
    const failure = this.#failNext;
    if (failure) {
      this.#failNext = null;
      throw failure;
    }
    const from = this.#active;
    this.#active = colour;
    const result = { from, to: colour, at: Date.now() };
    if (from !== colour) {
      this.#switches += 1;
      this.switchLog.push(result);
      for (const listener of [...this.#switchListeners]) listener(result);
    }
    return result;
  }

  /** The next switchTo() throws `error` and leaves traffic where it is (a remote data plane refused it). */
  failNextSwitch(error: Error): void {
    this.#failNext = error;
  }

  /** Calls `listener` after every switch that moved traffic. Returns an unsubscribe function. */
  onSwitch(listener: (result: SwitchResult) => void): () => void {
    this.#switchListeners.add(listener);
    return () => this.#switchListeners.delete(listener);
  }

  drain(colour: Colour, timeoutMs: number): Promise<DrainResult> {
    return this.#inFlight[colour].drain(timeoutMs);
  }

  inFlight(colour: Colour): number {
    return this.#inFlight[colour].size;
  }

  async settled(): Promise<void> {}

  /**
   * A request arrives on the main listener (the active colour) or the preview listener (the other one).
   * Returns null when that colour has no replica in rotation (the real router answers 503).
   */
  begin(listener: "main" | "preview" = "main"): RoutedRequest | null {
    if (listener === "main" && this.requestHold.holding() !== null)
      throw new Error("requests are held: a request on the main listener arrives with arrive(), not begin()");
    return this.#route(listener === "main" ? this.#active : otherColour(this.#active));
  }

  /**
   * A request arrives, as with begin(), and may be held: resolves once it is routed (at once when no hold is
   * on; at the release, to the colour active then, when one is), with null when that colour has no replica.
   */
  arrive(listener: "main" | "preview" = "main"): Promise<RoutedRequest | null> {
    if (listener === "preview") return Promise.resolve(this.#route(otherColour(this.#active)));
    if (this.requestHold.holding() === null) return Promise.resolve(this.#route(this.#active));
    // The colour is the one active at the release, whatever switches come before this promise settles.
    return this.requestHold.wait().then((colour) => this.#route(colour));
  }

  #route(colour: Colour): RoutedRequest | null {
    const rotation = this.#rotation[colour];
    if (rotation.length === 0) return null;
    const replica = rotation[this.#next[colour] % rotation.length] as Endpoint;
    this.#next[colour] += 1;
    const set = this.#inFlight[colour];
    let state: "open" | "ended" | "cancelled" = "open";
    let settle!: (how: "ended" | "cancelled") => void;
    const settled = new Promise<"ended" | "cancelled">((resolve) => {
      settle = resolve;
    });
    const entry: InFlight = {
      inFlightSlot: -1,
      cancel: () => {
        if (state !== "open") return;
        state = "cancelled";
        set.delete(entry);
        settle("cancelled");
      },
    };
    set.add(entry);
    return {
      colour,
      replica,
      settled,
      get cancelled() {
        return state === "cancelled";
      },
      end: () => {
        if (state !== "open") return;
        state = "ended";
        set.delete(entry);
        settle("ended");
      },
    };
  }

  /** Closes every request in flight, as the real router's close() does. */
  async close(): Promise<void> {
    this.requestHold.close();
    this.#inFlight.blue.cancelAll();
    this.#inFlight.green.cancelAll();
  }
}

/** RouterHold (src/router/request-hold.ts) without sockets: the waiting requests are promises. */
export class InMemoryHold implements RequestHold {
  readonly #active: () => Colour;
  readonly #inFlight: (colour: Colour) => InFlightSet;
  #hold: {
    readonly state: Omit<HoldState, "held">;
    readonly waiting: Array<(colour: Colour) => void>;
    readonly timer: NodeJS.Timeout;
    readonly end: (result: HoldResult) => void;
    readonly ended: Promise<HoldResult>;
  } | null = null;
  /** Every hold that ended, in order. */
  readonly log: HoldResult[] = [];

  constructor(active: () => Colour, inFlight: (colour: Colour) => InFlightSet) {
    this.#active = active;
    this.#inFlight = inFlight;
  }

  hold(timeoutMs: number, reason: string): void {
    if (this.#hold !== null)
      throw new CutoverError("HOLD_ACTIVE", `requests are held already (${this.#hold.state.reason})`);
    const since = Date.now();
    let end!: (result: HoldResult) => void;
    const ended = new Promise<HoldResult>((resolve) => {
      end = resolve;
    });
    const timer = setTimeout(() => this.#release(true), timeoutMs);
    this.#hold = { state: { since, releaseAt: since + timeoutMs, reason }, waiting: [], timer, end, ended };
  }

  release(): HoldResult {
    return this.#release(false);
  }

  quiet(colour: Colour, timeoutMs: number): Promise<boolean> {
    return this.#inFlight(colour).whenEmpty(timeoutMs);
  }

  holding(): HoldState | null {
    return this.#hold === null ? null : { ...this.#hold.state, held: this.#hold.waiting.length };
  }

  released(): Promise<HoldResult | null> {
    return this.#hold?.ended ?? Promise.resolve(null);
  }

  /** Resolves with the colour to go to: the active one now when no hold is on, else the one active at the release. */
  wait(): Promise<Colour> {
    const hold = this.#hold;
    if (hold === null) return Promise.resolve(this.#active());
    return new Promise((resolve) => hold.waiting.push(resolve));
  }

  /** Ends the hold, as the router's close() does. */
  close(): void {
    this.#release(false);
  }

  #release(timedOut: boolean): HoldResult {
    const hold = this.#hold;
    const colour = this.#active();
    if (hold === null) return { held: 0, heldMs: 0, timedOut: false, colour, gone: 0, refused: 0 };
    this.#hold = null;
    clearTimeout(hold.timer);
    for (const resume of hold.waiting) resume(colour);
    const result = {
      held: hold.waiting.length,
      heldMs: Date.now() - hold.state.since,
      timedOut,
      colour,
      gone: 0,
      refused: 0,
    };
    this.log.push(result);
    hold.end(result);
    return result;
  }
}
