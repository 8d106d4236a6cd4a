import type { Logger } from "pino";
import { type Colour, otherColour } from "../colour.js";
import type { Address, AutoPromote, SmokeCheck } from "../config/schema.js";
import { formatDuration } from "../duration.js";
import { CutoverError, DeployInProgressError } from "../errors.js";
import { ColourKeeper } from "./colour-keeper.js";
import {
  type DeployRecord,
  findStep,
  isFinal,
  newRecord,
  runningStep,
  type StepName,
  setPhase,
} from "./deploy-record.js";
import type { AnalysisOutcome, DeployAnalysis } from "./ports/deploy-analysis.js";
import type { DeployMigrator } from "./ports/deploy-migrator.js";
import type { Platform } from "./ports/platform.js";
import type { ServiceState, StateStore } from "./ports/state-store.js";
import type { TrafficRouter } from "./ports/traffic-router.js";
import type { ColourView, ServiceStatus } from "./service-status.js";
import { runSmokeChecks } from "./smoke-checks.js";
import { StateWriter } from "./state-writer.js";

export interface EngineOptions {
  readonly service: string;
  /** The version served when there is no state yet. */
  readonly initialVersion: string;
  readonly replicas: number;
  readonly readyTimeoutMs: number;
  readonly scaleDownDelayMs: number;
  readonly drainTimeoutMs: number;
  readonly autoPromote: AutoPromote;
  readonly smoke: readonly SmokeCheck[];
  readonly preview: Address;
  readonly platform: Platform;
  readonly router: TrafficRouter;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly migrator?: DeployMigrator | null;
  readonly analysis?: DeployAnalysis | null;
  /** After a rollback caused by analysis, leave the failed colour running for inspection (default true). */
  readonly keepFailedColour?: boolean;
}

export type EngineEvent =
  | { readonly type: "deploy"; readonly record: DeployRecord }
  | { readonly type: "colours" };

/** A deploy or rollback that has begun: its record as it started, and its end. */
export interface StartedOperation {
  readonly record: DeployRecord;
  readonly done: Promise<DeployRecord>;
}

/** One deploy or rollback while it runs. */
interface Operation {
  readonly record: DeployRecord;
  readonly controller: AbortController;
  readonly done: Promise<DeployRecord>;
  /** Another process took this deploy over: this one stops without touching traffic, colours or the record. */
  lost?: boolean;
  promote?: (from?: string) => void;
}

export class AnalysisFailedError extends CutoverError {
  constructor(when: string, outcome: AnalysisOutcome) {
    super("ANALYSIS_FAILED", `${when} analysis: ${outcome.verdict}: ${outcome.summary}`);
    this.name = "AnalysisFailedError";
  }
}

const abortedByUser = (from?: string) =>
  new CutoverError("ABORTED", `aborted by \`cutover abort\`${from ? ` from ${from}` : ""}`);

/**
 * The deploy state machine: the one place that knows the order of steps. It drives a Platform, a
 * TrafficRouter, and optionally a DeployMigrator and a DeployAnalysis through their interfaces, and
 * persists every change through the StateStore.
 */
export class Engine {
  readonly #o: EngineOptions;
  #state: ServiceState;
  #history: DeployRecord[];
  #operation: Operation | null = null;
  readonly #writer: StateWriter;
  readonly #keeper: ColourKeeper;
  readonly #listeners = new Set<(event: EngineEvent) => void>();

  private constructor(options: EngineOptions, state: ServiceState | null, history: DeployRecord[]) {
    this.#o = options;
    this.#history = history;
    this.#state = state ?? {
      schemaVersion: 1,
      active: "blue",
      colours: {
        blue: { version: options.initialVersion, running: true },
        green: { version: null, running: false },
      },
      current: null,
      deploys: 0,
    };
    this.#writer = new StateWriter(options.store, options.logger, () => this.#state);
    this.#keeper = new ColourKeeper(options.scaleDownDelayMs);
    options.store.onRequest?.((action, by) => {
      const op = this.#operation;
      if (!op) return;
      if (action === "promote")
        op.promote?.(by); // not paused (any more): nothing to promote
      else op.controller.abort(abortedByUser(by));
    });
    options.store.onLockLost?.((reason) => {
      const op = this.#operation;
      if (!op) return;
      op.lost = true;
      op.controller.abort(new CutoverError("LOCK_LOST", reason));
    });
  }

  /** Reads the state and history the store holds. */
  static async open(options: EngineOptions): Promise<Engine> {
    const [state, history] = await Promise.all([options.store.loadState(), options.store.loadHistory()]);
    return new Engine(options, state, history);
  }

  /** Brings the service back as it was: the active colour with its version, an interrupted deploy closed. */
  async up(): Promise<void> {
    const state = this.#state;
    // A deploy already in the history finished just before the crash: keep its record as it is.
    if (state.current && this.#history.some((r) => r.id === state.current?.id)) state.current = null;
    if (state.current) await this.#closeInterrupted(state.current);
    const active = state.active;
    state.colours[otherColour(active)].running = false;
    const version = state.colours[active].version ?? this.#o.initialVersion;
    state.colours[active] = { version, running: true };
    if (this.#o.router.active !== active) await this.#o.router.switchTo(active);
    await this.#writer.flush();
    this.#o.logger.info({ colour: active, version }, "starting the active colour");
    await this.#startColour(active, version);
    await this.#inRotation(active);
    this.#o.logger.info({ colour: active, version }, "serving");
  }

  /** Starts a deploy of `version` to the idle colour; refused while another deploy or rollback runs. */
  async deploy(version: string): Promise<StartedOperation> {
    const active = this.#state.active;
    return this.#begin("deploy", version, active, otherColour(active));
  }

  /** Sends traffic back to the other colour, starting it again first when it is no longer warm. */
  async rollback(): Promise<StartedOperation> {
    const active = this.#state.active;
    const previous = otherColour(active);
    const version = this.#state.colours[previous].version;
    if (version === null) {
      throw new CutoverError(
        "NOTHING_TO_ROLL_BACK",
        `the ${previous} colour has never run a version; nothing to roll back to`,
      );
    }
    return this.#begin("rollback", version, active, previous);
  }

  /** Lets a paused deploy go on: switch now, or accept an inconclusive analysis. */
  async promote(): Promise<DeployRecord> {
    const op = this.#operation;
    if (!op && this.#state.current?.phase === "Paused") return this.resume("promote");
    if (op?.record.phase !== "Paused" || !op.promote) {
      throw new CutoverError("NOT_PAUSED", "no deploy is paused for promotion; see `cutover status`");
    }
    op.promote();
    return op.done;
  }

  /**
   * Stops the deploy in progress. Before the switch traffic stays where it is; after it, traffic goes back.
   * A deploy another process left paused, or abandoned (on a shared store), is taken over first.
   */
  async abort(reason: CutoverError = abortedByUser()): Promise<DeployRecord> {
    const op = this.#operation;
    const current = this.#state.current;
    if (!op && current && !isFinal(current.phase)) return this.resume("abort");
    if (!op) {
      throw new CutoverError(
        "NO_DEPLOY",
        "no deploy is in progress; to return to the previous version run `cutover rollback`",
      );
    }
    op.controller.abort(reason);
    return op.done;
  }

  /**
   * Takes over a paused deploy that another process recorded in a shared store (on Kubernetes there is no
   * daemon: each CLI run opens the engine on the cluster's state). `promote` goes on from the paused step,
   * `abort` stops it, as in the process that paused it. `abort` also closes a deploy whose process is gone
   * (the store knows: its lock was not renewed), with the same outcome as an abort in that process.
   */
  async resume(action: "promote" | "abort"): Promise<DeployRecord> {
    const record = this.#state.current;
    const resumable = record && (record.phase === "Paused" || (action === "abort" && !isFinal(record.phase)));
    if (this.#operation || !record || !resumable) {
      const what = record ? `deploy ${record.id} is ${record.phase}` : "no deploy is in progress";
      throw new CutoverError(
        "NOT_PAUSED",
        `${what}; there is no paused deploy to ${action} (see \`cutover status\`)`,
      );
    }
    let abandonedBy: string | null;
    try {
      abandonedBy = await this.#o.store.takeOver(record);
    } catch (error) {
      // Another process runs it and is alive: ask that one, as a daemon would be asked.
      const ask = this.#o.store.ask?.bind(this.#o.store);
      if (error instanceof DeployInProgressError && ask) return this.#askHolder(ask, record, action);
      throw error;
    }
    const paused = runningStep(record);
    const op: Operation = { record, controller: new AbortController(), done: Promise.resolve(record) };
    if (action === "abort") {
      op.controller.abort(
        abandonedBy === null
          ? abortedByUser()
          : new CutoverError("ABANDONED", `abandoned by ${abandonedBy}; closed by \`cutover abort\``),
      );
    } else if (paused) {
      paused.state = "succeeded";
      paused.detail = `${paused.name === "promotion" ? "promoted" : "accepted"} by \`cutover promote\``;
      setPhase(record, "Progressing");
      delete record.reason;
      delete record.resumesAt;
    }
    this.#operation = op;
    this.#changed(record);
    return this.#run(op);
  }

  /** Asks the live process that runs `record` to promote or abort it; if that one dies first, takes it over. */
  async #askHolder(
    ask: NonNullable<StateStore["ask"]>,
    record: DeployRecord,
    action: "promote" | "abort",
  ): Promise<DeployRecord> {
    try {
      return await ask(record, action);
    } catch (asked) {
      if ((asked as CutoverError).code !== "HOLDER_GONE") throw asked;
    }
    this.#state = (await this.#o.store.loadState()) ?? this.#state; // as the dead run left it
    const left = this.#state.current;
    if (action === "promote" && left && !isFinal(left.phase) && left.phase !== "Paused") {
      throw new CutoverError(
        "HOLDER_GONE",
        `the run that held deploy ${left.id} stopped renewing its lock while the deploy was ${left.phase}; \`cutover abort\` closes it`,
      );
    }
    return this.resume(action);
  }

  get active(): Colour {
    return this.#state.active;
  }

  /** Whether this engine runs a deploy or rollback itself (not only asks another process's). */
  get running(): boolean {
    return this.#operation !== null;
  }

  status(): ServiceStatus {
    const view = (colour: Colour): ColourView => {
      const scaleDownAt = this.#keeper.scaleDownAt(colour);
      return {
        ...this.#o.platform.status(colour),
        role: colour === this.#state.active ? "active" : "idle",
        recordedVersion: this.#state.colours[colour].version,
        running: this.#state.colours[colour].running,
        scaleDownAt: scaleDownAt === null ? null : new Date(scaleDownAt).toISOString(),
        inFlight: this.#o.router.inFlight(colour),
      };
    };
    const colours = { blue: view("blue"), green: view("green") };
    const serving = colours[this.#state.active].replicas.some((r) => r.ready);
    return {
      service: this.#o.service,
      health: serving ? "Healthy" : "Degraded",
      active: this.#state.active,
      colours,
      deploy: structuredClone(this.#operation?.record ?? this.#state.current),
      lastDeploy: this.#history.at(-1) ?? null,
      stateWriteError: this.#writer.error,
      deployHolder: !this.#operation && this.#state.current ? (this.#o.store.holder?.() ?? null) : null,
    };
  }

  history(): readonly DeployRecord[] {
    return this.#history;
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Aborts what runs, cancels timers, waits for a scale-down already under way (its colour stopping, its
   * contract migrations: the database must not close under them) and for the last write. The platform and
   * router are closed by their owner.
   */
  async close(): Promise<void> {
    await this.#keeper.close();
    const op = this.#operation;
    if (op) {
      op.controller.abort(new CutoverError("SHUTDOWN", "the cutover daemon was shut down"));
      await op.done;
    }
    // Every change was asked to be written when it was made; a run that changed nothing (`cutover status`
    // on Kubernetes) writes nothing, so it can never put back a state another run has moved on from.
    await this.#writer.idle();
    this.#writer.stopRetrying();
    this.#o.store.letGo?.();
  }

  /**
   * Lets go of this engine without aborting a paused deploy: waits for the last write, so another
   * process can take the deploy over with resume(). Timers (scale-down) do not survive it.
   */
  async release(): Promise<void> {
    this.#keeper.cancelAll();
    // Forget the paused operation: from now on it belongs to whoever resumes it, not to this engine.
    this.#operation = null;
    await this.#writer.idle();
    this.#o.store.letGo?.();
  }

  /** Takes the one-deploy-at-a-time lock (here, then in the store) and starts the steps. */
  async #begin(
    kind: DeployRecord["kind"],
    version: string,
    from: Colour,
    to: Colour,
  ): Promise<StartedOperation> {
    const running = this.#operation;
    if (running)
      throw new DeployInProgressError(running.record.id, running.record.version, running.record.phase);
    const id = `${kind === "deploy" ? "d" : "r"}${this.#state.deploys + 1}`;
    const fromVersion = this.#state.colours[from].version;
    const record = newRecord(
      id,
      kind,
      version,
      { colour: from, version: fromVersion },
      { colour: to, version },
    );
    let start!: () => void;
    record.targetBefore = this.#state.colours[to].version;
    const op: Operation = {
      record,
      controller: new AbortController(),
      done: new Promise<void>((resolve) => {
        start = resolve;
      }).then(() => this.#run(op)),
    };
    this.#operation = op;
    try {
      // The last operation's writes land first: a write of its ending still queued must never race
      // this claim (on a shared store it would clear the lock just taken).
      await this.#writer.idle();
      await this.#o.store.claim(record);
    } catch (error) {
      this.#operation = null;
      throw error;
    }
    this.#state.deploys += 1;
    this.#state.current = record;
    this.#changed(record);
    this.#o.logger.info({ deploy: id, kind, version, from, to }, `${kind} started`);
    start();
    return { record: structuredClone(record), done: op.done };
  }

  async #run(op: Operation): Promise<DeployRecord> {
    const { record } = op;
    try {
      if (record.kind === "deploy") await this.#deploySteps(op);
      else await this.#rollbackSteps(op);
      setPhase(record, "Healthy");
      this.#scheduleScaleDown(record.from.colour, record.kind === "deploy");
    } catch (error) {
      await this.#fail(op, error);
    } finally {
      await this.#finish(op);
    }
    return structuredClone(record);
  }

  async #deploySteps(op: Operation): Promise<void> {
    const { record } = op;
    const idle = record.to.colour;
    const migrator = this.#o.migrator;
    await this.#step(op, "migrate-expand", async () =>
      migrator ? migrator.expand(record.version, op.controller.signal) : skip("no database configured"),
    );
    await this.#step(op, "start-idle", async () => {
      await this.#keeper.makeIdle(idle);
      await this.#startColour(idle, record.version);
      return `${this.#o.replicas} replica(s) of ${record.version} on ${idle}`;
    });
    await this.#step(op, "wait-healthy", () => this.#waitHealthy(op, idle));
    await this.#step(op, "smoke-checks", () => this.#smoke(op));
    await this.#step(op, "pre-analysis", () => this.#analyse(op, "pre-switch"));
    await this.#step(op, "promotion", () => this.#promotion(op));
    await this.#step(op, "switch", () => this.#switch(op));
    await this.#step(op, "post-analysis", () => this.#analyse(op, "post-switch"));
  }

  async #rollbackSteps(op: Operation): Promise<void> {
    const { record } = op;
    const previous = record.to.colour;
    await this.#step(op, "start-previous", async () => {
      // A scale-down that is stopping this colour ends first; then look at what runs.
      await this.#keeper.notStopping(previous);
      const warm = this.#o.platform.status(previous);
      const stillWarm = warm.version === record.version && warm.replicas.length > 0;
      this.#keeper.cancel(previous);
      if (stillWarm && this.#state.colours[previous].running) return `${previous} is still warm`;
      await this.#keeper.makeIdle(previous);
      await this.#startColour(previous, record.version);
      return `${previous} was cold: started ${this.#o.replicas} replica(s) of ${record.version}`;
    });
    await this.#step(op, "wait-healthy", () => this.#waitHealthy(op, previous));
    await this.#step(op, "switch", () => this.#switch(op));
  }

  async #startColour(colour: Colour, version: string): Promise<void> {
    const env = (await this.#o.migrator?.colourEnv(colour, version)) ?? {};
    this.#state.colours[colour] = { version, running: true };
    this.#writer.save();
    await this.#o.platform.start(colour, version, this.#o.replicas, env);
  }

  async #waitHealthy(op: Operation, colour: Colour): Promise<string> {
    const started = Date.now();
    await this.#inRotation(colour, op.controller.signal);
    const restarts = this.#o.platform.status(colour).replicas.reduce((sum, r) => sum + r.restarts, 0);
    const note = restarts > 0 ? ` after ${restarts} restart(s)` : "";
    return `all replicas ready in ${formatDuration(Date.now() - started)}${note}`;
  }

  async #smoke(op: Operation): Promise<StepOutcome> {
    if (this.#o.smoke.length === 0) return skip("none configured");
    const results = await runSmokeChecks(
      this.#o.smoke,
      this.#o.preview,
      op.record.version,
      op.controller.signal,
    );
    op.controller.signal.throwIfAborted();
    const failed = results.find((r) => !r.passed);
    if (failed)
      throw new CutoverError("SMOKE_FAILED", `smoke check "${failed.name}" failed: ${failed.detail}`);
    return `${results.length} passed`;
  }

  /** Runs one analysis: Fail throws, Inconclusive pauses for a person, Pass and Marginal go on. */
  async #analyse(op: Operation, when: "pre-switch" | "post-switch"): Promise<StepOutcome> {
    const analysis = this.#o.analysis;
    if (!analysis) return skip("no analysis configured");
    const { record, controller } = op;
    const context = {
      deployId: record.id,
      version: record.version,
      baseline: record.from.colour,
      canary: record.to.colour,
      signal: controller.signal,
    };
    const running = when === "pre-switch" ? analysis.preSwitch(context) : analysis.postSwitch(context);
    const outcome = await abortable(running, controller.signal);
    if (outcome === null) return skip(`no ${when} analysis configured`);
    const line = `${outcome.verdict}: ${outcome.summary}`;
    if (outcome.verdict === "Fail") throw new AnalysisFailedError(when, outcome);
    if (outcome.verdict === "Inconclusive") {
      const next = when === "pre-switch" ? "switch" : "keep the new version";
      await this.#pause(
        op,
        `${when} analysis was inconclusive (${outcome.summary}); \`cutover promote\` to ${next}, \`cutover abort\` to ${when === "pre-switch" ? "stop" : "roll back"}`,
      );
      return `${line}; accepted by \`cutover promote\``;
    }
    return line;
  }

  async #promotion(op: Operation): Promise<string> {
    const mode = this.#o.autoPromote;
    if (mode.mode === "on") return "automatic";
    if (mode.mode === "off") {
      return this.#pause(op, "waiting for `cutover promote` (or `cutover abort`)");
    }
    const at = Date.now() + mode.delayMs;
    const reason = `switches by itself at ${new Date(at).toISOString()}; \`cutover promote\` switches now, \`cutover abort\` stops`;
    return this.#pause(op, reason, mode.delayMs);
  }

  /** Phase Paused until `cutover promote` (or the delay, when given); `cutover abort` rejects. */
  async #pause(op: Operation, reason: string, delayMs?: number): Promise<string> {
    const signal = op.controller.signal;
    setPhase(op.record, "Paused", reason);
    if (delayMs !== undefined) op.record.resumesAt = new Date(Date.now() + delayMs).toISOString();
    this.#changed(op.record);
    const how = await new Promise<string>((resolve, reject) => {
      const timer =
        delayMs === undefined ? undefined : setTimeout(() => resolve("automatic after the delay"), delayMs);
      op.promote = (from) => {
        clearTimeout(timer);
        resolve(`promoted by \`cutover promote\`${from ? ` from ${from}` : ""}`);
      };
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }).finally(() => delete op.record.resumesAt);
    op.promote = undefined;
    setPhase(op.record, "Progressing");
    delete op.record.reason;
    return how;
  }

  async #switch(op: Operation): Promise<string> {
    const { record, controller } = op;
    const schema = (await this.#o.migrator?.checkSchema(record.version)) ?? null;
    const waited = await this.#readyAgain(op, record.to.colour);
    controller.signal.throwIfAborted();
    // The record says "switch" before traffic moves: whoever finds it after a crash knows to look. A deploy
    // never moves traffic when that could not be written (a full disk, a lock another run took over); a
    // rollback does, as it restores the version that served before, and the state catches up later.
    await this.#writer.flush();
    controller.signal.throwIfAborted();
    if (this.#writer.error && record.kind === "deploy") {
      throw new CutoverError(
        "STATE_NOT_WRITTEN",
        `the deploy state could not be written before the switch (${this.#writer.error}), so traffic did not move`,
      );
    }
    const result = await this.#o.router.switchTo(record.to.colour);
    this.#state.active = record.to.colour;
    record.switchedAt = new Date(result.at).toISOString();
    this.#keeper.draining(result.from, this.#o.router.drain(result.from, this.#o.drainTimeoutMs));
    await this.#writer.flush();
    this.#o.logger.info({ deploy: record.id, from: result.from, to: result.to }, "switched");
    return `${result.from} -> ${result.to}${waited}${schema ? `; ${schema}` : ""}`;
  }

  /**
   * A colour can lose replicas after wait-healthy (a crash during the smoke checks, the analysis or a pause):
   * traffic goes to it only once every replica is ready again and in the data plane's rotation, within
   * readyTimeout; after that the switch fails and traffic stays where it is. Says how long that took, if at all.
   */
  async #readyAgain(op: Operation, colour: Colour): Promise<string> {
    const replicas = this.#o.platform.status(colour).replicas;
    if (replicas.length > 0 && replicas.every((r) => r.ready)) {
      await this.#o.router.settled?.();
      return "";
    }
    const started = Date.now();
    this.#o.logger.warn(
      { deploy: op.record.id, colour },
      "replicas not ready at the switch; waiting for them",
    );
    await this.#inRotation(colour, op.controller.signal);
    return ` (after waiting ${formatDuration(Date.now() - started)} for ${colour}'s replicas to be ready again)`;
  }

  /**
   * Waits (within readyTimeout) until every replica of `colour` is ready and in the data plane's rotation:
   * HAProxy hears of ready replicas a moment later, and a request sent before must not meet a backend with
   * no server.
   */
  async #inRotation(colour: Colour, signal?: AbortSignal): Promise<void> {
    await this.#o.platform.waitReady(colour, {
      timeoutMs: this.#o.readyTimeoutMs,
      ...(signal ? { signal } : {}),
    });
    await this.#o.router.settled?.();
  }

  async #step(op: Operation, name: StepName, action: () => Promise<StepOutcome>): Promise<void> {
    const step = findStep(op.record, name);
    if (step.state === "succeeded" || step.state === "skipped") return; // done before a resume
    op.controller.signal.throwIfAborted();
    step.state = "running";
    step.startedAt = new Date().toISOString();
    this.#changed(op.record);
    const started = performance.now();
    try {
      const outcome = await action();
      step.state = typeof outcome === "string" ? "succeeded" : "skipped";
      step.detail = typeof outcome === "string" ? outcome : outcome.skipped;
    } catch (error) {
      step.state = "failed";
      step.detail = (error as Error).message;
      throw error;
    } finally {
      step.endedAt = new Date().toISOString();
      step.durationMs = Math.round(performance.now() - started);
      this.#o.logger.info(
        { deploy: op.record.id, step: name, state: step.state, detail: step.detail },
        `step ${name}`,
      );
      this.#changed(op.record);
    }
  }

  /** A deploy or rollback that did not make it: traffic goes (or stays) where it was, the new colour is stopped. */
  async #fail(op: Operation, error: unknown): Promise<void> {
    const { record } = op;
    const reason = error instanceof CutoverError ? error.summary : (error as Error).message;
    const switching = findStep(record, "switch").state === "running";
    for (const step of record.steps) {
      if (step.state === "pending") step.state = "skipped";
      if (step.state === "running") {
        step.state = "failed";
        step.detail = reason;
      }
    }
    if (op.lost) {
      // The run that took it over decides where traffic goes and records the outcome.
      setPhase(record, "Aborted", `${reason}; this run stopped and changed nothing more`);
      this.#o.logger.error({ deploy: record.id, reason }, `${record.kind} taken over by another run`);
      return;
    }
    const target = record.to.colour;
    // Also when its process died in the switch step, after traffic moved but before it recorded that (an
    // abandoned deploy): the live selector, read at start, says where traffic is.
    if (record.switchedAt || (switching && this.#state.active === target)) {
      await this.#switchBack(op, reason);
      return;
    }
    setPhase(
      record,
      "Aborted",
      `${reason}; traffic stayed on ${record.from.colour} (${record.from.version})`,
    );
    this.#changed(record);
    this.#o.logger.warn({ deploy: record.id, reason }, `${record.kind} aborted`);
    if (this.#state.active !== target) {
      await this.#stopColour(target);
      // The version that failed never served: a later rollback must not go back to it.
      if (record.targetBefore !== undefined) this.#state.colours[target].version = record.targetBefore;
    }
  }

  /** A failure after the switch (analysis Fail, `cutover abort`): traffic goes back to the old colour at once. */
  async #switchBack(op: Operation, reason: string): Promise<void> {
    const { record } = op;
    const back = await this.#o.router.switchTo(record.from.colour);
    this.#state.active = record.from.colour;
    record.rolledBackAt = new Date(back.at).toISOString();
    this.#keeper.draining(back.from, this.#o.router.drain(back.from, this.#o.drainTimeoutMs));
    setPhase(
      record,
      "Aborted",
      `${reason}; rolled back: traffic is on ${record.from.colour} (${record.from.version}) again`,
    );
    await this.#writer.flush();
    this.#o.logger.warn({ deploy: record.id, reason }, "rolled back after the switch");
    if (this.#o.keepFailedColour === false) this.#scheduleScaleDown(record.to.colour, false);
  }

  async #stopColour(colour: Colour): Promise<void> {
    await this.#o.platform
      .stop(colour)
      .catch((e: unknown) => this.#o.logger.error({ err: e }, "stopping failed"));
    this.#state.colours[colour].running = false;
  }

  async #finish(op: Operation): Promise<void> {
    if (op.lost) {
      this.#operation = null;
      this.#emit({ type: "deploy", record: structuredClone(op.record) });
      return;
    }
    // History first, then clear `current`: a crash between the two writes leaves the record in both, and
    // up() keeps the history's; the other order loses the record.
    this.#writer.addToHistory(op.record);
    this.#state.current = null;
    await this.#writer.flush();
    this.#history = this.#history.filter((r) => r.id !== op.record.id);
    this.#history.push(structuredClone(op.record));
    this.#operation = null;
    this.#changed(op.record);
  }

  /** A deploy that was running when the daemon died: close it in the history, say where traffic is. */
  async #closeInterrupted(record: DeployRecord): Promise<void> {
    const step = runningStep(record);
    for (const s of record.steps) {
      if (s.state === "running") {
        s.state = "failed";
        s.detail = "the cutover daemon stopped during this step";
      } else if (s.state === "pending") s.state = "skipped";
    }
    if (!isFinal(record.phase)) {
      const active = this.#state.active;
      const where = `${active} (${this.#state.colours[active].version})`;
      setPhase(
        record,
        "Aborted",
        `the cutover daemon stopped during ${step?.name ?? "the deploy"}; traffic is on ${where}`,
      );
    }
    await this.#o.store.appendHistory(record);
    this.#state.current = null;
    this.#history = this.#history.filter((r) => r.id !== record.id);
    this.#history.push(record);
    this.#o.logger.warn(
      { deploy: record.id, phase: record.phase },
      "closed a deploy interrupted by a restart",
    );
  }

  /**
   * Resolves once no scale-down is scheduled or running, the contract migrations that follow one included:
   * a process with nothing else to do (a CLI run on Kubernetes) waits for this before it exits.
   */
  scaleDownsDone(): Promise<void> {
    return this.#keeper.done();
  }

  /** The old colour stays warm for scaleDownDelay, then stops; after a deploy, contract migrations may follow. */
  #scheduleScaleDown(colour: Colour, thenContract: boolean): void {
    const at = this.#keeper.schedule(colour, {
      idle: () => colour !== this.#state.active && this.#operation?.record.to.colour !== colour,
      stop: () => this.#stopColour(colour),
      afterStop: () => this.#afterScaleDown(colour, thenContract),
    });
    this.#o.logger.info({ colour, at: new Date(at).toISOString() }, "old colour kept warm until scale-down");
  }

  async #afterScaleDown(colour: Colour, thenContract: boolean): Promise<void> {
    this.#writer.save();
    this.#o.logger.info({ colour }, "old colour scaled down");
    this.#emit({ type: "colours" });
    const migrator = this.#o.migrator;
    if (!thenContract || !migrator || this.#operation) return;
    const warm = this.#o.platform.status(colour).replicas.filter((r) => r.state !== "stopped").length;
    if (warm > 0) {
      this.#o.logger.warn(
        { colour, replicas: warm },
        "the old colour still runs replicas (kept warm): contract migrations wait for `cutover migrate contract`",
      );
      return;
    }
    try {
      this.#o.logger.info({ result: await migrator.contract() }, "contract migrations");
    } catch (error) {
      this.#o.logger.error({ err: (error as Error).message }, "contract migrations failed");
    }
  }

  #changed(record: DeployRecord): void {
    this.#writer.save();
    this.#emit({ type: "deploy", record: structuredClone(record) });
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

/** Settles with `work`, or rejects as soon as `signal` aborts, whichever comes first. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** What a step did, in one line; or why it had nothing to do (recorded as skipped). */
type StepOutcome = string | { readonly skipped: string };
const skip = (why: string): StepOutcome => ({ skipped: why });
