import type { Colour } from "../colour.js";
import { formatDuration } from "../duration.js";
import { CutoverError } from "../errors.js";
import type { ColourKeeper } from "./colour-keeper.js";
import { switchWithDatabase } from "./database-switchover.js";
import type { EngineEvent, EngineOptions } from "./engine-options.js";
import { analyse, promotion, smoke } from "./gate-steps.js";
import {
  closeSteps,
  DEPLOY_STEPS,
  type DeployRecord,
  type DeployStep,
  failureOutcome,
  findStep,
  mayScaleDown,
  ROLLBACK_STEPS,
  type RollbackStep,
  type StepName,
  setPhase,
} from "./lifecycle.js";
import { type Operation, type StepOutcome, skip } from "./operation.js";
import type { ServiceState } from "./ports/state-store.js";
import type { SwitchResult } from "./ports/traffic-router.js";
import type { StateWriter } from "./state-writer.js";

/** What the steps share with the engine that runs them. */
export interface StepsContext {
  readonly o: EngineOptions;
  readonly state: () => ServiceState;
  readonly writer: StateWriter;
  readonly keeper: ColourKeeper;
  /** The operation this process runs, if any. */
  readonly running: () => Operation | null;
  /** Records a change of `record`: written, and told to listeners. */
  readonly changed: (record: DeployRecord) => void;
  readonly emit: (event: EngineEvent) => void;
}

type Actions<S extends StepName> = Record<S, (op: Operation) => Promise<StepOutcome>>;

/**
 * What each step of a deploy or rollback does, run in the order lifecycle.ts gives, and what a failure
 * does to traffic and colours. The Engine decides when an operation runs; this does the work.
 */
export class Steps {
  readonly #c: StepsContext;
  readonly #deploy: Actions<DeployStep>;
  readonly #rollback: Actions<RollbackStep>;

  constructor(context: StepsContext) {
    this.#c = context;
    const { o, keeper } = context;
    const gate = { o, changed: context.changed };
    this.#deploy = {
      "migrate-expand": (op) =>
        o.migrator
          ? o.migrator.expand(op.record.version, op.record.to.colour, op.controller.signal)
          : Promise.resolve(skip("no database configured")),
      "start-idle": async (op) => {
        const idle = op.record.to.colour;
        await keeper.makeIdle(idle);
        await this.startColour(idle, op.record.version);
        return `${o.replicas} replica(s) of ${op.record.version} on ${idle}`;
      },
      "wait-healthy": (op) => this.#waitHealthy(op, op.record.to.colour),
      "smoke-checks": (op) => smoke(o, op),
      "pre-analysis": (op) => analyse(gate, op, "pre-switch"),
      promotion: (op) => promotion(gate, op),
      switch: (op) => this.#switch(op),
      "post-analysis": (op) => analyse(gate, op, "post-switch"),
    };
    this.#rollback = {
      "start-previous": (op) => this.#startPrevious(op),
      "wait-healthy": (op) => this.#waitHealthy(op, op.record.to.colour),
      switch: (op) => this.#switch(op),
    };
  }

  /** Runs the operation's steps in order; a step done before a resume is not run again. */
  async run(op: Operation): Promise<void> {
    if (op.record.kind === "deploy") {
      for (const name of DEPLOY_STEPS) await this.#step(op, name, this.#deploy[name]);
    } else {
      for (const name of ROLLBACK_STEPS) await this.#step(op, name, this.#rollback[name]);
    }
  }

  async startColour(colour: Colour, version: string): Promise<void> {
    const { o, writer } = this.#c;
    const env = (await o.migrator?.colourEnv(colour, version)) ?? {};
    this.#c.state().colours[colour] = { version, running: true };
    writer.save();
    await o.platform.start(colour, version, o.replicas, env);
  }

  /**
   * Waits (within readyTimeout) until every replica of `colour` is ready and in the data plane's rotation:
   * HAProxy hears of ready replicas a moment later, and a request sent before must not meet a backend with
   * no server.
   */
  async inRotation(colour: Colour, signal?: AbortSignal): Promise<void> {
    const { o } = this.#c;
    await o.platform.waitReady(colour, { timeoutMs: o.readyTimeoutMs, ...(signal ? { signal } : {}) });
    await o.router.settled?.();
  }

  /** A deploy or rollback that did not make it: traffic goes (or stays) where it was, the new colour is stopped. */
  async fail(op: Operation, error: unknown): Promise<void> {
    const { record } = op;
    const { o, state } = this.#c;
    const reason = error instanceof CutoverError ? error.summary : (error as Error).message;
    const outcome = failureOutcome(record, op.lost === true, state().active);
    closeSteps(record, reason);
    if (outcome === "hands-off") {
      setPhase(record, "Aborted", `${reason}; this run stopped and changed nothing more`);
      o.logger.error({ deploy: record.id, reason }, `${record.kind} taken over by another run`);
      return;
    }
    if (outcome === "switch-back") {
      await this.#switchBack(op, reason);
      return;
    }
    const target = record.to.colour;
    setPhase(
      record,
      "Aborted",
      `${reason}; traffic stayed on ${record.from.colour} (${record.from.version})`,
    );
    this.#c.changed(record);
    o.logger.warn({ deploy: record.id, reason }, `${record.kind} aborted`);
    if (state().active !== target) {
      await this.#stopColour(target);
      // The version that failed never served: a later rollback must not go back to it.
      if (record.targetBefore !== undefined) state().colours[target].version = record.targetBefore;
    }
  }

  /** The old colour stays warm for scaleDownDelay, then stops; after a deploy, contract migrations may follow. */
  scheduleScaleDown(colour: Colour, thenContract: boolean): void {
    const { keeper, o, state, running } = this.#c;
    const at = keeper.schedule(colour, {
      idle: async () => {
        if (!mayScaleDown(colour, state()) || running()?.record.to.colour === colour) return false;
        // Another process may have moved on since (a store several share): a deploy of its own that made
        // this colour live or targets it. Unreadable: keep the colour warm rather than stop what may serve.
        const stored = await o.store.storage.loadState().catch(() => undefined);
        if (stored === undefined) return false;
        return stored === null || mayScaleDown(colour, stored);
      },
      stop: () => this.#stopColour(colour),
      afterStop: () => this.#afterScaleDown(colour, thenContract),
    });
    o.logger.info({ colour, at: new Date(at).toISOString() }, "old colour kept warm until scale-down");
  }

  async #step(op: Operation, name: StepName, action: (op: Operation) => Promise<StepOutcome>): Promise<void> {
    const step = findStep(op.record, name);
    if (step.state === "succeeded" || step.state === "skipped") return; // done before a resume
    op.controller.signal.throwIfAborted();
    step.state = "running";
    step.startedAt = new Date().toISOString();
    this.#c.changed(op.record);
    const started = performance.now();
    try {
      const outcome = await action(op);
      step.state = typeof outcome === "string" ? "succeeded" : "skipped";
      step.detail = typeof outcome === "string" ? outcome : outcome.skipped;
    } catch (error) {
      step.state = "failed";
      step.detail = (error as Error).message;
      throw error;
    } finally {
      step.endedAt = new Date().toISOString();
      step.durationMs = Math.round(performance.now() - started);
      this.#c.o.logger.info(
        { deploy: op.record.id, step: name, state: step.state, detail: step.detail },
        `step ${name}`,
      );
      this.#c.changed(op.record);
    }
  }

  async #startPrevious(op: Operation): Promise<string> {
    const { record } = op;
    const { o, keeper, state } = this.#c;
    const previous = record.to.colour;
    // A scale-down that is stopping this colour ends first; then look at what runs.
    await keeper.notStopping(previous);
    const warm = o.platform.status(previous);
    const stillWarm = warm.version === record.version && warm.replicas.length > 0;
    keeper.cancel(previous);
    if (stillWarm && state().colours[previous].running) return `${previous} is still warm`;
    await keeper.makeIdle(previous);
    await this.startColour(previous, record.version);
    return `${previous} was cold: started ${o.replicas} replica(s) of ${record.version}`;
  }

  async #waitHealthy(op: Operation, colour: Colour): Promise<string> {
    const started = Date.now();
    await this.inRotation(colour, op.controller.signal);
    const restarts = this.#c.o.platform.status(colour).replicas.reduce((sum, r) => sum + r.restarts, 0);
    const note = restarts > 0 ? ` after ${restarts} restart(s)` : "";
    return `all replicas ready in ${formatDuration(Date.now() - started)}${note}`;
  }

  async #switch(op: Operation): Promise<string> {
    const { record, controller } = op;
    const { o, writer, keeper, state } = this.#c;
    const schema = (await o.migrator?.checkSchema(record.version, record.to.colour)) ?? null;
    const waited = await this.#readyAgain(op, record.to.colour);
    controller.signal.throwIfAborted();
    // The record says "switch" before traffic moves: whoever finds it after a crash knows to look. A deploy
    // never moves traffic when that could not be written (a full disk, a lock another run took over); a
    // rollback does, as it restores the version that served before, and the state catches up later.
    await writer.flush();
    controller.signal.throwIfAborted();
    if (writer.error && record.kind === "deploy") {
      throw new CutoverError(
        "STATE_NOT_WRITTEN",
        `the deploy state could not be written before the switch (${writer.error}), so traffic did not move`,
      );
    }
    const { result, database } = await this.#moveTraffic(op, record.to.colour);
    state().active = record.to.colour;
    record.switchedAt = new Date(result.at).toISOString();
    keeper.draining(result.from, o.router.drain(result.from, o.drainTimeoutMs));
    await writer.flush();
    o.logger.info({ deploy: record.id, from: result.from, to: result.to }, "switched");
    return `${result.from} -> ${result.to}${waited}${schema ? `; ${schema}` : ""}${database}`;
  }

  /**
   * Points the data plane at `to`; with database.sync: logical, through a database switchover (requests
   * held until `to`'s database has caught up: database-switchover.ts). A way back (after an abort) runs
   * even though the operation's signal has fired. Returns what the record says of the database.
   */
  async #moveTraffic(
    op: Operation,
    to: Colour,
    wayBack = false,
  ): Promise<{ result: SwitchResult; database: string }> {
    const { o, state } = this.#c;
    const sync = o.migrator?.sync ?? null;
    if (sync === null) return { result: await o.router.switchTo(to), database: "" };
    const moved = await switchWithDatabase(
      {
        router: o.router,
        sync,
        logger: o.logger,
        deployId: op.record.id,
        ...(wayBack ? {} : { signal: op.controller.signal }),
      },
      state().active,
      to,
    );
    return { result: moved.result, database: `; ${moved.detail}` };
  }

  /**
   * A colour can lose replicas after wait-healthy (a crash during the smoke checks, the analysis or a pause):
   * traffic goes to it only once every replica is ready again and in the data plane's rotation, within
   * readyTimeout; after that the switch fails and traffic stays where it is. Says how long that took, if at all.
   */
  async #readyAgain(op: Operation, colour: Colour): Promise<string> {
    const { o } = this.#c;
    const replicas = o.platform.status(colour).replicas;
    if (replicas.length > 0 && replicas.every((r) => r.ready)) {
      await o.router.settled?.();
      return "";
    }
    const started = Date.now();
    o.logger.warn({ deploy: op.record.id, colour }, "replicas not ready at the switch; waiting for them");
    await this.inRotation(colour, op.controller.signal);
    return ` (after waiting ${formatDuration(Date.now() - started)} for ${colour}'s replicas to be ready again)`;
  }

  /** A failure after the switch (analysis Fail, `cutover abort`): traffic goes back to the old colour at once. */
  async #switchBack(op: Operation, reason: string): Promise<void> {
    const { record } = op;
    const { o, keeper, writer, state } = this.#c;
    let back: SwitchResult;
    try {
      back = (await this.#moveTraffic(op, record.from.colour, true)).result;
    } catch (error) {
      // With database.sync: logical the way back needs the old colour's database caught up; without it,
      // traffic stays where every write is.
      const why = error instanceof CutoverError ? error.summary : (error as Error).message;
      setPhase(
        record,
        "Aborted",
        `${reason}; moving traffic back failed (${why}), so it stays on ${record.to.colour} (${record.version}) with every write: \`cutover rollback\` tries again`,
      );
      await writer.flush();
      o.logger.error({ deploy: record.id, reason, why }, "rollback after the switch failed");
      return;
    }
    state().active = record.from.colour;
    record.rolledBackAt = new Date(back.at).toISOString();
    keeper.draining(back.from, o.router.drain(back.from, o.drainTimeoutMs));
    setPhase(
      record,
      "Aborted",
      `${reason}; rolled back: traffic is on ${record.from.colour} (${record.from.version}) again`,
    );
    await writer.flush();
    o.logger.warn({ deploy: record.id, reason }, "rolled back after the switch");
    if (o.keepFailedColour === false) this.scheduleScaleDown(record.to.colour, false);
  }

  async #stopColour(colour: Colour): Promise<void> {
    const { o, state } = this.#c;
    await o.platform.stop(colour).catch((e: unknown) => o.logger.error({ err: e }, "stopping failed"));
    state().colours[colour].running = false;
  }

  async #afterScaleDown(colour: Colour, thenContract: boolean): Promise<void> {
    const { o, writer, running } = this.#c;
    writer.save();
    o.logger.info({ colour }, "old colour scaled down");
    this.#c.emit({ type: "colours" });
    const migrator = o.migrator;
    if (!thenContract || !migrator || running()) return;
    const warm = o.platform.status(colour).replicas.filter((r) => r.state !== "stopped").length;
    if (warm > 0) {
      o.logger.warn(
        { colour, replicas: warm },
        "the old colour still runs replicas (kept warm): contract migrations wait for `cutover migrate contract`",
      );
      return;
    }
    try {
      o.logger.info({ result: await migrator.contract() }, "contract migrations");
    } catch (error) {
      o.logger.error({ err: (error as Error).message }, "contract migrations failed");
    }
  }
}
