import type { Colour } from "../colour.js";
import type { Address } from "../config/schema.js";
import type { TrafficRouter } from "../engine/ports/traffic-router.js";

/**
 * A data plane the daemon runs: the built-in router or a HAProxy driven through its runtime API. The engine
 * sees only TrafficRouter; the daemon also starts and stops it and reads its per-colour metrics.
 */
export interface DataPlane extends TrafficRouter {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Per-colour Prometheus text (cutover_requests_total{colour,status}, ...). */
  metrics(): Promise<string>;
  readonly metricsContentType: string;
  /** Ids of the replicas of `colour` in rotation (the last setEndpoints). */
  inRotation(colour: Colour): readonly string[];
  address(): Address;
  previewAddress(): Address | null;
  /**
   * Brings up to date what the synchronous reads (inFlight, a hold's count) say, when they come from other
   * processes (router workers); absent when they are always current.
   */
  refresh?(): Promise<unknown>;
}
