import type { Logger } from "pino";
import { type Colour, otherColour } from "../colour.js";
import type { Address, AutoPromote, SmokeCheck } from "../config/schema.js";
import { formatDuration } from "../duration.js";
import { CutoverError, DeployInProgressError } from "../errors.js";
import type { ColourStatus, Platform } from "../platforms/platform.js";
import type { DrainResult, TrafficRouter } from "../router/traffic-router.js";
import {
  type DeployRecord,
  findStep,
  isFinal,
  newRecord,
  runningStep,
  type StepName,
  setPhase,
} from "./deploy-record.js";
import { runSmokeChecks } from "./smoke-checks.js";
import type { ServiceState, StateStore } from "./state-store.js";

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
}

export type EngineEvent =
  | { readonly type: "deploy"; readonly record: DeployRecord }
  | { readonly type: "colours" };

export interface ColourView extends ColourStatus {
  readonly role: "active" | "idle";
  /** The version recorded for this colour, even when it is not running. */
  readonly recordedVersion: string | null;
  readonly running: boolean;
  readonly scaleDownAt: string | null;
  readonly inFlight: number;
}

export interface ServiceStatus {
  readonly service: string;
  /** Healthy when the active colour has a ready replica, Degraded when it has none. */
  readonly health: "Healthy" | "Degraded";
  readonly active: Colour;
  readonly colours: Readonly<Record<Colour, ColourView>>;
  readonly deploy: DeployRecord | null;
  readonly lastDeploy: DeployRecord | null;
}

/** One deploy or rollback while it runs. */
interface Operation {
  readonly record: DeployRecord;
  readonly controller: AbortController;
  readonly done: Promise<DeployRecord>;
  promote?: () => void;
}

const abortedByUser = () => new CutoverError("ABORTED", "aborted by `cutover abort`");

/**
 * The deploy state machine: the one place that knows the order of steps. It drives a Platform and a
 * TrafficRouter through their interfaces and persists every change through the StateStore.
 */
export class Engine {
  readonly #o: EngineOptions;
  #state: ServiceState;
  #history: DeployRecord[];
  #operation: Operation | null = null;
  readonly #scaleDowns = new Map<Colour, { timer: NodeJS.Timeout; at: number }>();
  readonly #drains = new Map<Colour, Promise<DrainResult>>();
  readonly #listeners = new Set<(event: EngineEvent) => void>();

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#history = options.store.loadHistory();
    this.#state = options.store.loadState() ?? {
      schemaVersion: 1,
      active: "blue",
      colours: {
        blue: { version: options.initialVersion, running: true },
        green: { version: null, running: false },
      },
      current: null,
      deploys: 0,
    };
  }

  /** Brings the service back as it was: the active colour with its version, an interrupted deploy closed. */
  async up(): Promise<void> {
    const state = this.#state;
    if (state.current) this.#closeInterrupted(state.current);
    const active = state.active;
    const idle = otherColour(active);
    state.colours[idle].running = false;
    const version = state.colours[active].version ?? this.#o.initialVersion;
    state.colours[active] = { version, running: true };
    if (this.#o.router.active !== active) this.#o.router.switchTo(active);
    this.#save();
    this.#o.logger.info({ colour: active, version }, "starting the active colour");
    await this.#o.platform.start(active, version, this.#o.replicas);
    await this.#o.platform.waitReady(active, { timeoutMs: this.#o.readyTimeoutMs });
    this.#o.logger.info({ colour: active, version }, "serving");
  }

  /** Starts a deploy of `version` to the idle colour; refused while another deploy or rollback runs. */
  deploy(version: string): { record: DeployRecord; done: Promise<DeployRecord> } {
    const active = this.#state.active;
    const idle = otherColour(active);
    const op = this.#begin("deploy", version, active, idle);
    return { record: op.record, done: op.done };
  }

  /** Sends traffic back to the other colour, starting it again first when it is no longer warm. */
  rollback(): { record: DeployRecord; done: Promise<DeployRecord> } {
    const active = this.#state.active;
    const previous = otherColour(active);
    const version = this.#state.colours[previous].version;
    if (version === null) {
      throw new CutoverError(
        "NOTHING_TO_ROLL_BACK",
        `the ${previous} colour has never run a version; nothing to roll back to`,
      );
    }
    const op = this.#begin("rollback", version, active, previous);
    return { record: op.record, done: op.done };
  }

  /** Lets a paused deploy switch now. */
  async promote(): Promise<DeployRecord> {
    const op = this.#operation;
    if (op?.record.phase !== "Paused" || !op.promote) {
      throw new CutoverError("NOT_PAUSED", "no deploy is paused for promotion; see `cutover status`");
    }
    op.promote();
    return op.done;
  }

  /** Stops the deploy in progress before it switches; traffic stays where it is. */
  async abort(): Promise<DeployRecord> {
    const op = this.#operation;
    if (!op) {
      throw new CutoverError(
        "NO_DEPLOY",
        "no deploy is in progress; to return to the previous version run `cutover rollback`",
      );
    }
    op.controller.abort(abortedByUser());
    return op.done;
  }

  status(): ServiceStatus {
    const view = (colour: Colour): ColourView => {
      const platform = this.#o.platform.status(colour);
      const scaleDown = this.#scaleDowns.get(colour);
      return {
        ...platform,
        role: colour === this.#state.active ? "active" : "idle",
        recordedVersion: this.#state.colours[colour].version,
        running: this.#state.colours[colour].running,
        scaleDownAt: scaleDown ? new Date(scaleDown.at).toISOString() : null,
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
      deploy: this.#operation ? structuredClone(this.#operation.record) : null,
      lastDeploy: this.#history.at(-1) ?? null,
    };
  }

  history(): readonly DeployRecord[] {
    return this.#history;
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Aborts what runs, cancels timers. The platform and router are closed by their owner. */
  async close(): Promise<void> {
    for (const { timer } of this.#scaleDowns.values()) clearTimeout(timer);
    this.#scaleDowns.clear();
    const op = this.#operation;
    if (op) {
      op.controller.abort(new CutoverError("SHUTDOWN", "the cutover daemon was shut down"));
      await op.done;
    }
  }

  #begin(kind: DeployRecord["kind"], version: string, from: Colour, to: Colour): Operation {
    const running = this.#operation;
    if (running)
      throw new DeployInProgressError(running.record.id, running.record.version, running.record.phase);
    this.#state.deploys += 1;
    const id = `${kind === "deploy" ? "d" : "r"}${this.#state.deploys}`;
    const record = newRecord(
      id,
      kind,
      version,
      { colour: from, version: this.#state.colours[from].version },
      { colour: to, version },
    );
    const controller = new AbortController();
    const op: Operation = {
      record,
      controller,
      done: Promise.resolve().then(() => this.#run(op)),
    };
    this.#operation = op;
    this.#state.current = record;
    this.#changed(record);
    this.#o.logger.info({ deploy: id, kind, version, from, to }, `${kind} started`);
    return op;
  }

  async #run(op: Operation): Promise<DeployRecord> {
    const { record } = op;
    try {
      if (record.kind === "deploy") await this.#deploySteps(op);
      else await this.#rollbackSteps(op);
      setPhase(record, "Healthy");
      this.#scheduleScaleDown(record.from.colour);
    } catch (error) {
      await this.#fail(op, error);
    } finally {
      this.#finish(op);
    }
    return structuredClone(record);
  }

  async #deploySteps(op: Operation): Promise<void> {
    const { record } = op;
    const idle = record.to.colour;
    await this.#step(op, "start-idle", async () => {
      await this.#makeIdle(idle);
      this.#state.colours[idle] = { version: record.version, running: true };
      await this.#o.platform.start(idle, record.version, this.#o.replicas);
      return `${this.#o.replicas} replica(s) of ${record.version} on ${idle}`;
    });
    await this.#step(op, "wait-healthy", () => this.#waitHealthy(op, idle));
    await this.#step(op, "smoke-checks", () => this.#smoke(op));
    await this.#step(op, "promotion", () => this.#promotion(op));
    await this.#step(op, "switch", async () => this.#switch(op));
  }

  async #rollbackSteps(op: Operation): Promise<void> {
    const { record } = op;
    const previous = record.to.colour;
    const warm = this.#o.platform.status(previous);
    await this.#step(op, "start-previous", async () => {
      if (warm.version === record.version && warm.replicas.length > 0 && !this.#scaleDownDone(previous)) {
        this.#cancelScaleDown(previous);
        return `${previous} is still warm`;
      }
      this.#cancelScaleDown(previous);
      await this.#makeIdle(previous);
      this.#state.colours[previous] = { version: record.version, running: true };
      await this.#o.platform.start(previous, record.version, this.#o.replicas);
      return `${previous} was cold: started ${this.#o.replicas} replica(s) of ${record.version}`;
    });
    await this.#step(op, "wait-healthy", () => this.#waitHealthy(op, previous));
    await this.#step(op, "switch", async () => this.#switch(op));
  }

  async #waitHealthy(op: Operation, colour: Colour): Promise<string> {
    const started = Date.now();
    await this.#o.platform.waitReady(colour, {
      timeoutMs: this.#o.readyTimeoutMs,
      signal: op.controller.signal,
    });
    const restarts = this.#o.platform.status(colour).replicas.reduce((sum, r) => sum + r.restarts, 0);
    const note = restarts > 0 ? ` after ${restarts} restart(s)` : "";
    return `all replicas ready in ${formatDuration(Date.now() - started)}${note}`;
  }

  async #smoke(op: Operation): Promise<string> {
    if (this.#o.smoke.length === 0) return "none configured";
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

  async #promotion(op: Operation): Promise<string> {
    const mode = this.#o.autoPromote;
    if (mode.mode === "on") return "automatic";
    const signal = op.controller.signal;
    const at = mode.mode === "after" ? Date.now() + mode.delayMs : null;
    const reason =
      at === null
        ? "waiting for `cutover promote` (or `cutover abort`)"
        : `switches by itself at ${new Date(at).toISOString()}; \`cutover promote\` switches now, \`cutover abort\` stops`;
    setPhase(op.record, "Paused", reason);
    this.#changed(op.record);
    const how = await new Promise<string>((resolve, reject) => {
      const timer =
        at === null ? undefined : setTimeout(() => resolve("automatic after the delay"), at - Date.now());
      op.promote = () => {
        clearTimeout(timer);
        resolve("promoted by `cutover promote`");
      };
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    op.promote = undefined;
    setPhase(op.record, "Progressing");
    delete op.record.reason;
    return how;
  }

  #switch(op: Operation): string {
    op.controller.signal.throwIfAborted();
    const to = op.record.to.colour;
    const result = this.#o.router.switchTo(to);
    this.#state.active = to;
    op.record.switchedAt = new Date(result.at).toISOString();
    this.#save();
    this.#drains.set(result.from, this.#o.router.drain(result.from, this.#o.drainTimeoutMs));
    this.#o.logger.info({ deploy: op.record.id, from: result.from, to }, "switched");
    return `${result.from} -> ${to}`;
  }

  async #step(op: Operation, name: StepName, action: () => Promise<string>): Promise<void> {
    op.controller.signal.throwIfAborted();
    const step = findStep(op.record, name);
    step.state = "running";
    step.startedAt = new Date().toISOString();
    this.#changed(op.record);
    const started = performance.now();
    try {
      step.detail = await action();
      step.state = "succeeded";
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

  /** A deploy or rollback that did not make it: traffic stays where it was, the new colour is stopped. */
  async #fail(op: Operation, error: unknown): Promise<void> {
    const { record } = op;
    const reason =
      error instanceof CutoverError ? error.summary : error instanceof Error ? error.message : String(error);
    for (const step of record.steps) if (step.state === "pending") step.state = "skipped";
    if (record.switchedAt) {
      // Traffic already moved; the deploy did its job, only what came after failed.
      this.#o.logger.error({ deploy: record.id, err: reason }, "failure after the switch");
      setPhase(record, "Healthy");
      return;
    }
    const target = record.to.colour;
    setPhase(
      record,
      "Aborted",
      `${reason}; traffic stayed on ${record.from.colour} (${record.from.version})`,
    );
    this.#changed(record);
    this.#o.logger.warn({ deploy: record.id, reason }, `${record.kind} aborted`);
    if (record.kind === "deploy" || this.#state.active !== target) {
      await this.#o.platform
        .stop(target)
        .catch((e: unknown) => this.#o.logger.error({ err: e }, "stopping failed"));
      this.#state.colours[target].running = false;
    }
  }

  #finish(op: Operation): void {
    this.#state.current = null;
    this.#o.store.appendHistory(op.record);
    this.#history = this.#history.filter((r) => r.id !== op.record.id);
    this.#history.push(structuredClone(op.record));
    this.#operation = null;
    this.#changed(op.record);
  }

  /** A deploy that was running when the daemon died: close it in the history, say where traffic is. */
  #closeInterrupted(record: DeployRecord): void {
    const step = runningStep(record);
    for (const s of record.steps) {
      if (s.state === "running") {
        s.state = "failed";
        s.detail = "the cutover daemon stopped during this step";
      } else if (s.state === "pending") s.state = "skipped";
    }
    if (record.switchedAt) setPhase(record, "Healthy");
    else if (!isFinal(record.phase)) {
      const where = `${this.#state.active} (${this.#state.colours[this.#state.active].version})`;
      setPhase(
        record,
        "Aborted",
        `the cutover daemon stopped during ${step?.name ?? "the deploy"}; traffic stayed on ${where}`,
      );
    }
    this.#state.current = null;
    this.#o.store.appendHistory(record);
    this.#history = this.#history.filter((r) => r.id !== record.id);
    this.#history.push(record);
    this.#o.logger.warn(
      { deploy: record.id, phase: record.phase },
      "closed a deploy interrupted by a restart",
    );
  }

  /** Before a colour takes a new version: cancel its scale-down and wait for its drain to end. */
  async #makeIdle(colour: Colour): Promise<void> {
    this.#cancelScaleDown(colour);
    const drain = this.#drains.get(colour);
    if (drain) await drain;
    this.#drains.delete(colour);
  }

  #scheduleScaleDown(colour: Colour): void {
    this.#cancelScaleDown(colour);
    const at = Date.now() + this.#o.scaleDownDelayMs;
    const timer = setTimeout(() => void this.#scaleDown(colour), this.#o.scaleDownDelayMs);
    this.#scaleDowns.set(colour, { timer, at });
    this.#o.logger.info({ colour, at: new Date(at).toISOString() }, "old colour kept warm until scale-down");
  }

  async #scaleDown(colour: Colour): Promise<void> {
    this.#scaleDowns.delete(colour);
    if (colour === this.#state.active || this.#operation?.record.to.colour === colour) return;
    await this.#drains.get(colour);
    this.#drains.delete(colour);
    await this.#o.platform.stop(colour);
    this.#state.colours[colour].running = false;
    this.#save();
    this.#o.logger.info({ colour }, "old colour scaled down");
    this.#emit({ type: "colours" });
  }

  #cancelScaleDown(colour: Colour): void {
    const pending = this.#scaleDowns.get(colour);
    if (pending) clearTimeout(pending.timer);
    this.#scaleDowns.delete(colour);
  }

  #scaleDownDone(colour: Colour): boolean {
    return !this.#state.colours[colour].running;
  }

  #changed(record: DeployRecord): void {
    this.#save();
    this.#emit({ type: "deploy", record: structuredClone(record) });
  }

  #save(): void {
    this.#o.store.saveState(this.#state);
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
