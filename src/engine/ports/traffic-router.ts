import type { Colour } from "../../colour.js";
import type { Endpoint } from "./platform.js";

export interface SwitchResult {
  readonly from: Colour;
  readonly to: Colour;
  /** Date.now() when the pointer moved. */
  readonly at: number;
}

export interface DrainResult {
  /** Requests and WebSockets that finished by themselves before the deadline. */
  readonly completed: number;
  /** Those still open at the deadline, closed by the router. */
  readonly cancelled: number;
}

/** How a hold of new requests ended (RequestHold.release, or its own timeout). */
export interface HoldResult {
  /** Requests that waited at the router and were then sent to `colour`. */
  readonly held: number;
  /** How long the hold lasted, from hold() to its release. */
  readonly heldMs: number;
  /** The hold was released by its own deadline, not by release(). */
  readonly timedOut: boolean;
  /** The colour the held requests went to: the one active at the release. */
  readonly colour: Colour;
  /** Requests whose client went away while they waited (never sent to a colour). */
  readonly gone: number;
  /** Requests answered 503 (with Retry-After) because as many as the router may hold were waiting already. */
  readonly refused: number;
}

/** A hold that is on. */
export interface HoldState {
  /** Date.now() when it began. */
  readonly since: number;
  /** Requests waiting now. */
  readonly held: number;
  /** Date.now() at which it releases itself unless release() comes first. */
  readonly releaseAt: number;
  /** Why it was asked for (a person's pause, a database switchover). */
  readonly reason: string;
}

/**
 * Holding new requests at the data plane, sent to no colour, then letting them go to the colour active at
 * the release: the pause a database switchover (or a person, with `cutover pause`) needs. Requests already
 * in flight go on; `quiet` waits for them without cancelling them.
 */
export interface RequestHold {
  /**
   * From now on new requests (HTTP and WebSocket upgrades) on the main listener wait at the router, sent to
   * no colour, until release() or until `timeoutMs` has passed (then the hold releases itself). Throws a
   * CutoverError (HOLD_ACTIVE) when a hold is on already.
   */
  hold(timeoutMs: number, reason: string): void | Promise<void>;
  /**
   * Ends the hold: every held request, and every new one, goes to the colour active at this moment, in
   * arrival order. Idempotent: without a hold on it returns held 0.
   */
  release(): HoldResult | Promise<HoldResult>;
  /** Resolves true once no request is in flight on `colour`, false at the deadline; it cancels nothing (unlike drain). */
  quiet(colour: Colour, timeoutMs: number): Promise<boolean>;
  /** The hold that is on, or null. */
  holding(): HoldState | null;
  /** Resolves with how the current hold ended (by release() or its timeout); with null at once when none is on. */
  released(): Promise<HoldResult | null>;
}

/**
 * The data plane as the engine sees it: which replicas each colour has in rotation,
 * which colour is active, and draining of the other one.
 */
export interface TrafficRouter {
  readonly active: Colour;
  /** Replaces the set of replicas in rotation for `colour`. */
  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void;
  /**
   * Makes `colour` the active one in one atomic step; requests already in flight on the old colour go on.
   * The built-in router answers at once; a remote data plane (a Kubernetes Service, HAProxy) may take a round trip.
   */
  switchTo(colour: Colour): SwitchResult | Promise<SwitchResult>;
  /** Waits for requests in flight on `colour` (started before this call) to finish; closes what is left at the deadline. */
  drain(colour: Colour, timeoutMs: number): Promise<DrainResult>;
  inFlight(colour: Colour): number;
  /** Resolves once every setEndpoints so far has taken effect (a remote data plane applies them in turn). */
  settled?(): Promise<void>;
  /** Holding new requests at the data plane; null when it cannot (a Kubernetes Service forwards, it never waits). */
  readonly requestHold: RequestHold | null;
}
