import { type Colour, otherColour } from "../colour.js";
import { CutoverError, DeployInProgressError, hasCode } from "../errors.js";
import { ColourKeeper } from "./colour-keeper.js";
import type { EngineEvent, EngineOptions, StartedOperation } from "./engine-options.js";
import { followDeploy, settled } from "./follow-deploy.js";
import {
  type DeployRecord,
  type HolderAction,
  isUnfinished,
  leavePause,
  newRecord,
  route,
  runningStep,
  setPhase,
} from "./lifecycle.js";
import { type Operation, pendingOperation } from "./operation.js";
import type { SyncReading } from "./ports/database-sync.js";
import { firstState, type HolderChannel, type ServiceState } from "./ports/state-store.js";
import { claimRecorded, closeLeftover } from "./recovery.js";
import type { ServiceStatus } from "./service-status.js";
import { StateWriter } from "./state-writer.js";
import { serviceStatus } from "./status-view.js";
import { Steps } from "./steps.js";
import { SyncWatch } from "./sync-watch.js";

const abortedByUser = (from?: string) =>
  new CutoverError("ABORTED", `aborted by \`cutover abort\`${from ? ` from ${from}` : ""}`);

/**
 * The deploy engine: one deploy or rollback at a time, run through its steps (steps.ts, in the order
 * lifecycle.ts gives), every change persisted through the StateStore and told to listeners. Who may
 * promote, abort, take over or follow a deploy is decided by the rules in lifecycle.ts; this class applies
 * them. It drives a Platform, a TrafficRouter, and optionally a DeployMigrator and a DeployAnalysis
 * through their ports.
 */
export class Engine {
  readonly #o: EngineOptions;
  #state: ServiceState;
  #history: DeployRecord[];
  #operation: Operation | null = null;
  readonly #writer: StateWriter;
  readonly #keeper: ColourKeeper;
  readonly #steps: Steps;
  readonly #listeners = new Set<(event: EngineEvent) => void>();
  readonly #syncWatch: SyncWatch | null;

  private constructor(options: EngineOptions, state: ServiceState | null, history: DeployRecord[]) {
    this.#o = options;
    this.#history = history;
    this.#state = state ?? firstState(options.initialVersion);
    this.#writer = new StateWriter(options.store.storage, options.logger, () => this.#state);
    this.#keeper = new ColourKeeper(options.scaleDownDelayMs);
    const sync = options.migrator?.sync ?? null;
    this.#syncWatch = sync === null ? null : new SyncWatch(sync, options.logger);
    this.#steps = new Steps({
      o: options,
      state: () => this.#state,
      writer: this.#writer,
      keeper: this.#keeper,
      running: () => this.#operation,
      changed: (record) => this.#changed(record),
      emit: (event) => this.#emit(event),
    });
    options.store.channel?.onRequest((action, by) => {
      const op = this.#operation;
      if (!op) return;
      if (action === "promote")
        op.promote?.(by); // not paused (any more): nothing to promote
      else op.controller.abort(abortedByUser(by));
    });
    options.store.lease.onLost((reason) => {
      const op = this.#operation;
      if (!op) return;
      op.lost = true;
      op.controller.abort(new CutoverError("LOCK_LOST", reason));
    });
  }

  /** Reads the state and history the store holds. */
  static async open(options: EngineOptions): Promise<Engine> {
    const { storage } = options.store;
    const [state, history] = await Promise.all([storage.loadState(), storage.loadHistory()]);
    return new Engine(options, state, history);
  }

  /** Brings the service back as it was: the active colour with its version, an interrupted deploy closed. */
  async up(): Promise<void> {
    const state = this.#state;
    await closeLeftover(state, this.#history, this.#o.store.storage, this.#o.logger);
    const active = state.active;
    state.colours[otherColour(active)].running = false;
    const version = state.colours[active].version ?? this.#o.initialVersion;
    state.colours[active] = { version, running: true };
    if (this.#o.router.active !== active) await this.#o.router.switchTo(active);
    await this.#writer.flush();
    // A colour an earlier daemon left running that is not live goes, after the switch (it may have served).
    await this.#o.platform.stop(otherColour(active));
    this.#o.logger.info({ colour: active, version }, "starting the active colour");
    await this.#steps.startColour(active, version);
    await this.#steps.inRotation(active);
    this.#syncWatch?.start();
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

  /** Lets a paused deploy go on: switch now, or accept an inconclusive analysis (see `route` in lifecycle.ts). */
  async promote(): Promise<DeployRecord> {
    const op = this.#operation;
    const where = route("promote", op?.record ?? null, this.#state.current);
    if (where === "take-over") return this.resume("promote");
    if (where === "here" && op?.promote) {
      op.promote();
      return settled(this, op.record.id, op.done);
    }
    // Paused, but already being aborted: nothing to promote any more.
    const ending = `deploy ${op?.record.id} is being aborted; there is nothing to promote`;
    throw new CutoverError("NOT_PAUSED", typeof where === "object" ? where.message : ending);
  }

  /**
   * Stops the deploy in progress. Before the switch traffic stays where it is; after it, traffic goes back.
   * A deploy another process left paused, or abandoned (on a shared store), is taken over first.
   */
  async abort(reason: CutoverError = abortedByUser()): Promise<DeployRecord> {
    const op = this.#operation;
    const where = route("abort", op?.record ?? null, this.#state.current);
    if (where === "take-over") return this.resume("abort");
    if (where === "here" && op) {
      op.controller.abort(reason);
      return settled(this, op.record.id, op.done);
    }
    throw new CutoverError(
      "NO_DEPLOY",
      typeof where === "object" ? where.message : "no deploy is in progress",
    );
  }

  /**
   * Takes over a deploy that another process recorded in a shared store (on Kubernetes there is no daemon:
   * each CLI run opens the engine on the cluster's state), as far as `takeOverRule` allows: `promote` goes on
   * from the paused step, `abort` stops it, as in the process that paused it; `abort` also closes a deploy
   * whose process is gone (its lock was not renewed). While its holder lives, the holder is asked instead.
   */
  async resume(action: HolderAction): Promise<DeployRecord> {
    const record = this.#state.current;
    const where = this.#operation ? null : route(action, null, record);
    if (where !== "take-over" || !record) {
      const running = this.#operation ? ` this process runs deploy ${this.#operation.record.id} itself;` : "";
      const why = typeof where === "object" && where ? where.message : `nothing to ${action}`;
      throw new CutoverError("NOT_PAUSED", `${running}${why}`.trim());
    }
    let abandonedBy: string | null;
    try {
      abandonedBy = await this.#o.store.lease.takeOver(record);
    } catch (error) {
      // Another process runs it and is alive: ask that one, as a daemon would be asked.
      const channel = this.#o.store.channel;
      if (error instanceof DeployInProgressError && channel) return this.#askHolder(channel, record, action);
      throw error;
    }
    const { op, start } = pendingOperation(record, (o) => this.#run(o));
    if (action === "abort") {
      // Being closed by its holder now: never shown as waiting for a person (anyone could take it over).
      if (record.phase === "Paused") leavePause(record);
      op.controller.abort(
        abandonedBy === null
          ? abortedByUser()
          : new CutoverError("ABANDONED", `abandoned by ${abandonedBy}; closed by \`cutover abort\``),
      );
    } else {
      const accepted = runningStep(record)?.name === "promotion" ? "promoted" : "accepted";
      leavePause(record, `${accepted} by \`cutover promote\``);
    }
    this.#operation = op;
    this.#changed(record);
    const answer = settled(this, op.record.id, op.done);
    start();
    return answer;
  }

  /** Asks the live process that runs `record` to promote or abort it; if that one dies first, takes it over. */
  async #askHolder(
    channel: HolderChannel,
    record: DeployRecord,
    action: HolderAction,
  ): Promise<DeployRecord> {
    try {
      return await channel.ask(record, action);
    } catch (asked) {
      if (!hasCode(asked, "HOLDER_GONE")) throw asked;
    }
    this.#state = (await this.#o.store.storage.loadState()) ?? this.#state; // as the dead run left it
    const left = this.#state.current;
    if (isUnfinished(left) && route(action, null, left) !== "take-over") {
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
    return serviceStatus({
      service: this.#o.service,
      state: this.#state,
      platform: this.#o.platform,
      router: this.#o.router,
      keeper: this.#keeper,
      deploy: this.#operation?.record ?? this.#state.current,
      lastDeploy: this.#history.at(-1) ?? null,
      stateWriteError: this.#writer.error,
      deployHolder: !this.#operation && this.#state.current ? this.#o.store.lease.holder() : null,
      databaseSync: this.#syncWatch?.latest ?? null,
    });
  }

  /** The last reading of the database sync (database.sync: logical); null without one, or before the first. */
  get syncReading(): SyncReading | null {
    return this.#syncWatch?.latest ?? null;
  }

  /** A fresh reading of the database sync (database.sync: logical); null without one. */
  async readSync(): Promise<SyncReading | null> {
    return (await this.#syncWatch?.refresh()) ?? null;
  }

  history(): readonly DeployRecord[] {
    return this.#history;
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The records of deploy `id` as it changes, starting with how it is now, until `followEnds` (lifecycle.ts)
   * says to stop. The one way to follow a deploy: the admin API's stream and the CLI use it.
   */
  follow(id: string): AsyncGenerator<DeployRecord> {
    return followDeploy(id, this, () => {
      const op = this.#operation?.record.id === id ? this.#operation : null;
      if (op) return op;
      const record =
        this.#state.current?.id === id ? this.#state.current : this.#history.find((r) => r.id === id);
      return record ? { record, done: null } : null;
    });
  }

  /**
   * Aborts what runs, cancels timers, waits for a scale-down already under way (its colour stopping, its
   * contract migrations: the database must not close under them) and for the last write. The platform and
   * router are closed by their owner.
   */
  async close(): Promise<void> {
    await this.#keeper.close();
    await this.#syncWatch?.stop();
    const op = this.#operation;
    if (op) {
      op.controller.abort(new CutoverError("SHUTDOWN", "the cutover daemon was shut down"));
      await op.done;
    }
    // Every change was asked to be written when it was made; a run that changed nothing (`cutover status`
    // on Kubernetes) writes nothing, so it can never put back a state another run has moved on from.
    await this.#writer.idle();
    this.#writer.stopRetrying();
    this.#o.store.lease.letGo();
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
    this.#o.store.lease.letGo();
  }

  /**
   * Resolves once no scale-down is scheduled or running, the contract migrations that follow one included:
   * a process with nothing else to do (a CLI run on Kubernetes) waits for this before it exits.
   */
  scaleDownsDone(): Promise<void> {
    return this.#keeper.done();
  }

  /** Takes the one-deploy-at-a-time lock (here, then the lease) and starts the steps. */
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
    record.targetBefore = this.#state.colours[to].version;
    const { op, start } = pendingOperation(record, (o) => this.#run(o));
    this.#operation = op;
    try {
      // The last operation's writes land first: a write of its ending still queued must never race
      // this claim (on a shared store it would clear the lock just taken).
      await this.#writer.idle();
      await claimRecorded(record, this.#o.store, this.#history, this.#o.logger);
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
      await this.#steps.run(op);
      setPhase(record, "Healthy");
      this.#steps.scheduleScaleDown(record.from.colour, record.kind === "deploy");
    } catch (error) {
      await this.#steps.fail(op, error);
    } finally {
      await this.#finish(op);
    }
    return structuredClone(record);
  }

  async #finish(op: Operation): Promise<void> {
    if (op.lost) {
      // What this run would still write is the other run's to write now; read the state it leaves.
      this.#writer.discard();
      this.#state = (await this.#o.store.storage.loadState().catch(() => null)) ?? this.#state;
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

  #changed(record: DeployRecord): void {
    this.#writer.save();
    this.#emit({ type: "deploy", record: structuredClone(record) });
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
