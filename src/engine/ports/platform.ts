import type { Colour } from "../../colour.js";

/** One address traffic can be sent to: a replica of a colour. */
export interface Endpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export const REPLICA_STATES = ["starting", "ready", "unready", "crashed", "stopping", "stopped"] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export interface ReplicaStatus {
  readonly id: string;
  readonly colour: Colour;
  readonly index: number;
  readonly version: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number | null;
  readonly state: ReplicaState;
  readonly ready: boolean;
  readonly restarts: number;
  /** The last failed health check or exit, in words. */
  readonly lastProblem: string | null;
  readonly logFile: string;
}

export interface ColourStatus {
  readonly colour: Colour;
  /** null when the colour runs nothing. */
  readonly version: string | null;
  readonly replicas: readonly ReplicaStatus[];
}

export interface WaitReadyOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Where colours run. The engine drives any platform through this interface only.
 * `onEndpoints` is how the data plane learns which replicas are in rotation.
 */
export interface Platform {
  /**
   * Starts `replicas` replicas of `version` on `colour`, with `env` added to their environment (e.g. the
   * database connection for this colour). Resolves once they are spawned, not once they are ready.
   */
  start(
    colour: Colour,
    version: string,
    replicas: number,
    env?: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** Resolves when every replica of `colour` is ready; rejects with a ReplicasNotReadyError saying why not. */
  waitReady(colour: Colour, options: WaitReadyOptions): Promise<void>;
  /** Stops every replica of `colour` (SIGTERM, then SIGKILL after the grace period). */
  stop(colour: Colour): Promise<void>;
  status(colour: Colour): ColourStatus;
  /** Called whenever the set of ready replicas of a colour changes. Returns an unsubscribe function. */
  onEndpoints(listener: (colour: Colour, endpoints: readonly Endpoint[]) => void): () => void;
  /** Stops everything. */
  close(): Promise<void>;
}
