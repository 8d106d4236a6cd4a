import type { DeployRecord } from "../engine/lifecycle.js";
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
  close(): Promise<void>;
}
