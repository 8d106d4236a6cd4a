import type { Colour } from "../colour.js";
import { InFlightSet } from "./in-flight-set.js";
import { ReplicaSet, type ReplicaSetOptions } from "./replica-set.js";
import type { RetryPolicy } from "./retry-policy.js";
import type { RouterMetrics } from "./router-metrics.js";

/** Everything a request needs about the colour it was sent to, built once per colour. */
export class ColourLane {
  readonly colour: Colour;
  readonly replicas: ReplicaSet;
  readonly inFlight = new InFlightSet();
  readonly metrics: RouterMetrics;
  /** Time allowed for a replica's response head (also the WebSocket handshake). */
  readonly headersTimeoutMs: number;
  /** Longest silence allowed between two chunks of an answer's body; 0 waits forever. */
  readonly bodyTimeoutMs: number;
  readonly retry: RetryPolicy;
  /** The replicas speak HTTP/2 cleartext: requests go to them as HTTP/2 streams (H2cExchange). */
  readonly h2c: boolean;

  constructor(colour: Colour, replicas: ReplicaSetOptions, metrics: RouterMetrics, retry: RetryPolicy) {
    this.colour = colour;
    this.retry = retry;
    this.replicas = new ReplicaSet(replicas);
    this.metrics = metrics;
    this.headersTimeoutMs = replicas.timeouts.headersMs;
    this.bodyTimeoutMs = replicas.timeouts.bodyMs;
    this.h2c = replicas.protocol === "h2c";
  }
}
