import type { DeployRecord } from "../engine/lifecycle.js";
import type { HoldResult, HoldState } from "../engine/ports/traffic-router.js";
import type { ServiceStatus } from "../engine/service-status.js";
import type { AdminClient } from "./admin-client.js";
import type { ControlPlane, OperationKind } from "./control-plane.js";

const PATHS: Readonly<Record<OperationKind, string>> = { deploy: "/deploys", rollback: "/rollback" };

/** The local platform's control plane: the daemon, through its admin API. */
export class DaemonControl implements ControlPlane {
  readonly #client: AdminClient;

  constructor(client: AdminClient) {
    this.#client = client;
  }

  status(): Promise<ServiceStatus> {
    return this.#client.get<ServiceStatus>("/status");
  }

  history(): Promise<DeployRecord[]> {
    return this.#client.get<DeployRecord[]>("/history");
  }

  start(kind: OperationKind, version?: string): Promise<DeployRecord> {
    return this.#client.post<DeployRecord>(PATHS[kind], { version });
  }

  follow(kind: OperationKind, version?: string): AsyncIterable<DeployRecord> {
    return this.#client.stream<DeployRecord>(PATHS[kind], { version, follow: true });
  }

  promote(): Promise<DeployRecord> {
    return this.#client.post<DeployRecord>("/promote");
  }

  abort(): Promise<DeployRecord> {
    return this.#client.post<DeployRecord>("/abort");
  }

  pause(timeout?: string): Promise<HoldState> {
    return this.#client.post<HoldState>("/pause", timeout === undefined ? {} : { timeout });
  }

  resume(): Promise<HoldResult> {
    return this.#client.post<HoldResult>("/resume");
  }

  async close(): Promise<void> {}
}
