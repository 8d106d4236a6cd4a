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
}
