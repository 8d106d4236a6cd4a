import type { DeployRecord } from "../engine/lifecycle.js";
import type { HoldResult, HoldState } from "../engine/ports/traffic-router.js";
import type { ServiceStatus } from "../engine/service-status.js";

export type OperationKind = "deploy" | "rollback";

/**
 * What the CLI's deploy commands talk to: the daemon's admin API on the local platform, or an engine run
 * in the CLI's own process on a platform that keeps its state elsewhere (Kubernetes).
 */
export interface ControlPlane {
  status(): Promise<ServiceStatus>;
  history(): Promise<readonly DeployRecord[]>;
  /** Starts a deploy (of `version`) or a rollback and returns its first record. */
  start(kind: OperationKind, version?: string): Promise<DeployRecord>;
  /** Starts one and yields its record at every change, until it is final or paused. */
  follow(kind: OperationKind, version?: string): AsyncIterable<DeployRecord>;
  promote(): Promise<DeployRecord>;
  abort(): Promise<DeployRecord>;
  /** Holds new requests at the router until resume() or `timeout` (a duration such as "30s"; default 30 s). */
  pause(timeout?: string): Promise<HoldState>;
  /** Releases the held requests to the live colour. */
  resume(): Promise<HoldResult>;
  close(): Promise<void>;
}
