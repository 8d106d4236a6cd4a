import type { Colour } from "../colour.js";
import type { LoadedConfig } from "../config/load.js";
import type { Address } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import type { MirrorOptions } from "./mirror.js";

/**
 * The messages between the data plane process and its router workers (router.workers > 1), over each
 * worker's cluster IPC channel, in order. The data plane process keeps the state every worker must share
 * (WorkerState) and sends it whole to a worker when it starts one, then each change to all of them.
 */

/** What a worker needs to serve as its siblings do, at the moment it is started. */
export interface WorkerState {
  readonly active: Colour;
  readonly endpoints: Readonly<Record<Colour, readonly Endpoint[]>>;
  readonly mirror: MirrorOptions | null;
  /** A hold that is on: its reason and the time left before it releases itself. */
  readonly hold: { readonly reason: string; readonly remainingMs: number } | null;
}

/** Calls a worker answers with a `reply`, one per id. */
export type WorkerCall =
  | { readonly method: "switchTo"; readonly colour: Colour }
  | { readonly method: "drain"; readonly colour: Colour; readonly timeoutMs: number }
  | { readonly method: "hold"; readonly timeoutMs: number; readonly reason: string }
  /** Ends the hold: `timedOut` when the data plane process's own timer ended it. */
  | { readonly method: "release"; readonly timedOut: boolean }
  | { readonly method: "quiet"; readonly colour: Colour; readonly timeoutMs: number }
  | { readonly method: "metrics" }
  | { readonly method: "snapshot" }
  | { readonly method: "close" };

export type ToWorker =
  | {
      readonly t: "init";
      readonly worker: number;
      readonly loaded: LoadedConfig;
      readonly state: WorkerState;
    }
  | { readonly t: "setEndpoints"; readonly colour: Colour; readonly endpoints: readonly Endpoint[] }
  | { readonly t: "setMirror"; readonly options: MirrorOptions | null }
  | { readonly t: "call"; readonly id: number; readonly call: WorkerCall };

/** A worker's requests in flight and held, for the data plane's snapshot. */
export interface WorkerSnapshot {
  readonly inFlight: Readonly<Record<Colour, number>>;
  readonly held: number;
  readonly mirrorInFlight: number;
}

export type FromWorker =
  /** The worker listens on its channel: the data plane process may send `init` (nothing before it). */
  | { readonly t: "up" }
  | {
      readonly t: "ready";
      readonly listen: Address;
      readonly preview: Address | null;
    }
  | { readonly t: "failed"; readonly code: string; readonly message: string }
  | { readonly t: "reply"; readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly t: "reply";
      readonly id: number;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
    }
  /** One line of the worker's log (pino's JSON), written by the data plane process into its own log. */
  | { readonly t: "log"; readonly line: string };

/** The environment variable that tells a cluster worker it is a router worker (its number, from 1). */
export const WORKER_ENV = "CUTOVER_ROUTER_WORKER";
