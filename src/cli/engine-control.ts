import type { DeployRecord } from "../engine/deploy-record.js";
import { isFinal } from "../engine/deploy-record.js";
import type { Engine, ServiceStatus, StartedOperation } from "../engine/engine.js";
import { CutoverError } from "../errors.js";
import type { ControlPlane, OperationKind } from "./control-plane.js";

/**
 * The control plane of a platform without a daemon: the engine runs in this process, on state the platform
 * shares with every other runner (on Kubernetes, annotations in the cluster). A paused deploy is left
 * paused in that state when this process ends; `promote` and `abort` in a later run take it over.
 */
export class EngineControl implements ControlPlane {
  readonly #engine: Engine;

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  async status(): Promise<ServiceStatus> {
    return this.#engine.status();
  }

  async history(): Promise<readonly DeployRecord[]> {
    return this.#engine.history();
  }

  async start(kind: OperationKind, version?: string): Promise<DeployRecord> {
    return (await this.#begin(kind, version)).record;
  }

  async *follow(kind: OperationKind, version?: string): AsyncGenerator<DeployRecord> {
    const queue: DeployRecord[] = [];
    let wake: (() => void) | null = null;
    let id = "";
    const unsubscribe = this.#engine.onEvent((event) => {
      if (event.type !== "deploy" || (id && event.record.id !== id)) return;
      queue.push(event.record);
      wake?.();
    });
    try {
      const started = await this.#begin(kind, version);
      id = started.record.id;
      let done = false;
      void started.done.then(() => {
        done = true;
        wake?.();
      });
      while (true) {
        const record = queue.shift();
        if (record) {
          if (record.id !== id) continue;
          yield record;
          if (record.phase === "Paused" || isFinal(record.phase)) return;
          continue;
        }
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    } finally {
      unsubscribe();
    }
  }

  promote(): Promise<DeployRecord> {
    return this.#engine.promote();
  }

  abort(): Promise<DeployRecord> {
    return this.#engine.abort();
  }

  /** Leaves a paused deploy paused in the shared state; anything else running is aborted. */
  async close(): Promise<void> {
    if (this.#engine.status().deploy?.phase === "Paused") await this.#engine.release();
    else await this.#engine.close();
  }

  #begin(kind: OperationKind, version?: string): Promise<StartedOperation> {
    if (kind === "rollback") return this.#engine.rollback();
    if (!version) throw new CutoverError("BAD_ARGUMENT", "a deploy needs a version");
    return this.#engine.deploy(version);
  }
}
