import type { DeployRecord } from "../engine/deploy-record.js";
import { isFinal } from "../engine/deploy-record.js";
import type { Engine, ServiceStatus, StartedOperation } from "../engine/engine.js";
import { CutoverError, EXIT_BAD_INPUT } from "../errors.js";
import type { ControlPlane, OperationKind } from "./control-plane.js";

/**
 * The control plane of a platform without a daemon: the engine runs in this process, on state the platform
 * shares with every other runner (on Kubernetes, annotations in the cluster). A paused deploy is left
 * paused in that state when this process ends; `promote` and `abort` in a later run take it over.
 */
export interface EngineControlOptions {
  readonly engine: Engine;
  /** After an operation ended: wait for what the engine scheduled (the old colour's scale-down), then close. */
  readonly finish?: () => Promise<void>;
  /** When this process ends with a deploy paused: close connections, leave the deploy as it is. */
  readonly leave?: () => Promise<void>;
}

export class EngineControl implements ControlPlane {
  readonly #engine: Engine;
  readonly #o: EngineControlOptions;

  constructor(options: EngineControlOptions) {
    this.#engine = options.engine;
    this.#o = options;
  }

  async status(): Promise<ServiceStatus> {
    return this.#engine.status();
  }

  async history(): Promise<readonly DeployRecord[]> {
    return this.#engine.history();
  }

  async start(_kind: OperationKind, _version?: string): Promise<DeployRecord> {
    throw new CutoverError(
      "NO_DAEMON",
      "--detach needs a daemon to carry the deploy on; on this platform the deploy runs in this process, so run it without --detach",
      EXIT_BAD_INPUT,
    );
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

  /** Leaves a paused deploy paused in the shared state; otherwise waits for scheduled work, then closes. */
  async close(): Promise<void> {
    if (this.#engine.status().deploy?.phase === "Paused") {
      await this.#engine.release();
      await this.#o.leave?.();
    } else if (this.#o.finish) await this.#o.finish();
    else await this.#engine.close();
  }

  #begin(kind: OperationKind, version?: string): Promise<StartedOperation> {
    if (kind === "rollback") return this.#engine.rollback();
    if (!version) throw new CutoverError("BAD_ARGUMENT", "a deploy needs a version");
    return this.#engine.deploy(version);
  }
}
