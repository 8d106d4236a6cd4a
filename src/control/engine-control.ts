import { constants } from "node:os";
import type { Engine } from "../engine/engine.js";
import type { StartedOperation } from "../engine/engine-options.js";
import { type DeployRecord, waitsForPerson } from "../engine/lifecycle.js";
import type { HoldResult, HoldState } from "../engine/ports/traffic-router.js";
import type { ServiceStatus } from "../engine/service-status.js";
import { CutoverError } from "../errors.js";
import type { ControlPlane, OperationKind } from "./control-plane.js";

/**
 * The control plane of a platform without a daemon: the engine runs in this process, on state the platform
 * shares with every other runner (on Kubernetes, annotations in the cluster). A paused deploy is left
 * paused in that state when this process ends; `promote` and `abort` in a later run take it over. A pause
 * with a delay (autoPromote: a duration) is waited out here: nobody else would end it.
 * SIGINT or SIGTERM (Ctrl-C, a cancelled CI job) while a deploy runs aborts it as `cutover abort` would,
 * so it never stays locked; the same signal again ends the process at once (the lock then expires by
 * itself). A different one does not: GitHub Actions sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL.
 */
export interface EngineControlOptions {
  readonly engine: Engine;
  /** After an operation ended: wait for what the engine scheduled (the old colour's scale-down), then close. */
  readonly finish?: () => Promise<void>;
  /** When this process ends with a deploy paused: close connections, leave the deploy as it is. */
  readonly leave?: () => Promise<void>;
  /**
   * SIGINT and SIGTERM are the owner's (a fleet runner, which halts every region itself): this control
   * installs no handler of its own, and a signal aborts nothing here but what the owner asks.
   */
  readonly signalsToOwner?: boolean;
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
    );
  }

  async *follow(kind: OperationKind, version?: string): AsyncGenerator<DeployRecord> {
    let id = "";
    let interrupted: CutoverError | null = null;
    const stopHandling = this.#onSignal((signal, first) => {
      if (!first) return;
      interrupted = interruption(signal, id || "the deploy");
      if (id) this.#abort(interrupted);
    });
    try {
      const started = await this.#begin(kind, version);
      id = started.record.id;
      if (interrupted) this.#abort(interrupted); // the signal came while the deploy was being started
      // A pause with a delay ends in this process, which holds the deploy until then: `follow` goes through it.
      yield* this.#engine.follow(id);
    } finally {
      stopHandling();
    }
  }

  /**
   * Takes a paused deploy over and lets it go on (a signal meanwhile aborts it, as in the run that paused
   * it), or asks the live run that holds it (a signal then stops only the waiting; the request stays).
   */
  async promote(): Promise<DeployRecord> {
    const stopHandling = this.#onSignal((signal, first) => {
      if (!first) return;
      if (this.#engine.running) {
        this.#abort(interruption(signal, "the promoted deploy"));
        return;
      }
      process.stderr.write(
        `cutover: got ${signal}; stopped waiting for the answer (the run that holds the deploy still acts on the request)\n`,
      );
      process.exit(128 + constants.signals[signal]);
    });
    try {
      return await this.#engine.promote();
    } finally {
      stopHandling();
    }
  }

  /** Aborting runs to its end unless the same signal comes twice. */
  async abort(): Promise<DeployRecord> {
    const stopHandling = this.#onSignal(() => {});
    try {
      return await this.#engine.abort();
    } finally {
      stopHandling();
    }
  }

  async pause(_timeout?: string): Promise<HoldState> {
    throw cannotHold("pause");
  }

  async resume(): Promise<HoldResult> {
    throw cannotHold("resume");
  }

  /** Leaves a paused deploy paused in the shared state; otherwise waits for scheduled work, then closes. */
  async close(): Promise<void> {
    const deploy = this.#engine.status().deploy;
    if (deploy && waitsForPerson(deploy)) {
      await this.#engine.release();
      await this.#o.leave?.();
      return;
    }
    const finish = this.#o.finish;
    if (!finish) return this.#engine.close();
    // The deploy is over and recorded; what is left is the old colour's scale-down.
    const stopHandling = this.#onSignal((signal) => {
      process.stderr.write(
        `cutover: got ${signal} while waiting to scale the old colour down; it stays up until the next deploy reuses it\n`,
      );
      process.exit(128 + constants.signals[signal]);
    });
    try {
      await finish();
    } finally {
      stopHandling();
    }
  }

  #onSignal(handler: (signal: "SIGINT" | "SIGTERM", first: boolean) => void): () => void {
    return this.#o.signalsToOwner ? () => {} : onSignal(handler);
  }

  /** Aborts what runs; when it is already over, follow() ends on its own. */
  #abort(reason: CutoverError): void {
    this.#engine.abort(reason).catch(() => {});
  }

  #begin(kind: OperationKind, version?: string): Promise<StartedOperation> {
    if (kind === "rollback") return this.#engine.rollback();
    if (!version) throw new CutoverError("BAD_ARGUMENT", "a deploy needs a version");
    return this.#engine.deploy(version);
  }
}

/** Kubernetes' data plane is a Service: kube-proxy forwards or refuses each connection, nothing waits in it. */
function cannotHold(command: "pause" | "resume"): CutoverError {
  return new CutoverError(
    "HOLD_UNSUPPORTED",
    `\`cutover ${command}\` cannot work on Kubernetes: the Service forwards each connection at once and cannot hold requests; it needs the local platform's built-in router`,
  );
}

/** Says on stderr that `what` is being aborted, and why; returns the reason the deploy records. */
function interruption(signal: "SIGINT" | "SIGTERM", what: string): CutoverError {
  process.stderr.write(
    `cutover: got ${signal}; aborting ${what} (traffic stays on, or goes back to, the live colour); ${signal} again to quit at once\n`,
  );
  return new CutoverError("INTERRUPTED", `cutover got ${signal} (stopped by hand, or its job was cancelled)`);
}

/**
 * Until the returned stop is called: SIGINT and SIGTERM no longer end the process; `handler` hears each
 * (first: whether it is the first), and the same signal a second time exits at once.
 */
function onSignal(handler: (signal: "SIGINT" | "SIGTERM", first: boolean) => void): () => void {
  const seen = new Set<string>();
  const listener = (signal: "SIGINT" | "SIGTERM") => {
    if (seen.has(signal)) process.exit(128 + constants.signals[signal]);
    handler(signal, seen.size === 0);
    seen.add(signal);
  };
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}
