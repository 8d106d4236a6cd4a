/**
 * An in-memory model of the state several processes share, as the Kubernetes store keeps it
 * (src/platforms/kubernetes/annotation-{storage,lease,holder-channel}.ts over service-annotations.ts and
 * history-config-map.ts): one SharedState is the cluster's copy (the active Service's annotations and the
 * history ConfigMap); each process (a CI runner) gets its own StateStore over it with `process(name)`.
 *
 * Kept faithful to the annotation store:
 *   - the state, the lock and the request are one object written by read-decide-write, atomically: what a
 *     write decides, it decides on what is stored at that moment (the real store re-reads and re-decides on
 *     409); every write leaves the process and comes back (other processes run in between);
 *   - the state is stored as JSON: a process never shares an object with another;
 *   - the deploy in progress is the lock: claim refuses while another unfinished deploy is recorded under a
 *     lock that is not this process's (DeployLockedError), and refuses a deploy id the state has already
 *     counted (STATE_STALE); it records a random token beside the deploy;
 *   - no write from a process without that token replaces or clears an unfinished deploy; a process that
 *     holds a deploy and finds another token (or none) on its next write lost it: it tells onLost (in a
 *     microtask, as the real one), forgets the lock and fails that write with LOCK_LOST; appendHistory checks
 *     the lock first, so a process that lost its deploy never records its own ending over the other's;
 *   - the holder renews its lock every renewMs (a third of the lease by default); a lock not renewed within
 *     leaseMs is abandoned (deploy-lock.ts's isAbandoned/lockAge, the real functions);
 *   - takeOver follows `takeOverRule` (lifecycle.ts) on the stored record and the lock's freshness, and says
 *     who abandoned the deploy (deploy-lock.ts's abandonedBy) or null for one left paused;
 *   - ask() follows `askRule`: it writes the request beside the deploy; the holder takes it with its next
 *     write that renews the lock (a renewal or a save) and passes it to onRequest once that write is in;
 *     the asker waits until the deploy has ended (its record in the history) or, after a promote, waits for
 *     a person again; HOLDER_GONE when the holder's lock is abandoned meanwhile, NOT_ASKABLE when the holder
 *     renewed without taking it;
 *   - loadState reports `active` as the live selector has it (the `liveActive` option: the shared router),
 *     and notes the lock it read, for holder(); saveState refuses an unfinished deploy this process does not
 *     hold (STATE_NOT_HELD); a write of a state with no unfinished deploy clears the lock and the request,
 *     and lets go of the lock only if no newer deploy was claimed meanwhile.
 *
 * Differences, on purpose: the asker does not poll every 250 ms but looks again at every change of the
 * shared object (and when the holder's lock would expire), which sees every state the poll could see, sooner;
 * renewals have no 100 ms floor (tests use leases of tens of ms); a missing state is null (the real store
 * then reads the Deployments); lock ages come from one clock (runners' clocks never disagree here); there is
 * no history limit unless given. Nothing here is a mock: nothing is scripted, every answer comes from the
 * shared object.
 *
 * `events` is the log of every claim, takeover, request, request taken, lost lock, state write and history
 * write, with what was stored when it happened, for tests that check the rules were followed.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Colour } from "../../src/colour.js";
import { formatDuration } from "../../src/duration.js";
import {
  askRule,
  type DeployRecord,
  type HolderAction,
  isUnfinished,
  type TakeOver,
  takeOverRule,
  waitsForPerson,
} from "../../src/engine/lifecycle.js";
import type {
  DeployLease,
  HolderChannel,
  ServiceState,
  StateStorage,
  StateStore,
} from "../../src/engine/ports/state-store.js";
import { CutoverError } from "../../src/errors.js";
import {
  abandonedBy,
  type DeployLock,
  DeployLockedError,
  isAbandoned,
  lockAge,
} from "../../src/platforms/kubernetes/deploy-lock.js";
import { ProcessGate } from "./process-gate.js";

/** What another process asks of the holder of a deploy (the `cutover.dev/request` annotation). */
export interface HolderRequest {
  readonly action: HolderAction;
  readonly deploy: string;
  readonly by: string;
  readonly at: string;
}

export type SharedEvent = { readonly at: number; readonly by: string } & (
  | {
      readonly type: "claim";
      readonly id: string;
      /** The deploy the state held when this one was claimed. */
      readonly before: DeployRecord | null;
    }
  | {
      readonly type: "takeover";
      readonly id: string;
      /** The record as stored when it was taken over. */
      readonly record: DeployRecord;
      /** The lock it was taken from, and its age then (null: never renewed). */
      readonly from: DeployLock | null;
      readonly lockAgeMs: number | null;
      readonly rule: TakeOver;
    }
  | {
      readonly type: "takeover-refused";
      readonly id: string;
      readonly record: DeployRecord | null;
      readonly lockAgeMs: number | null;
      readonly rule: TakeOver;
    }
  | {
      readonly type: "ask";
      readonly id: string;
      readonly action: HolderAction;
      readonly record: DeployRecord;
      readonly pending: HolderRequest | null;
    }
  | {
      readonly type: "ask-refused";
      readonly id: string;
      readonly action: HolderAction;
      readonly record: DeployRecord | null;
      readonly pending: HolderRequest | null;
      readonly code: string;
    }
  | { readonly type: "request-taken"; readonly request: HolderRequest }
  | { readonly type: "lost"; readonly id: string; readonly reason: string }
  | { readonly type: "write"; readonly current: DeployRecord | null; readonly active: Colour }
  | { readonly type: "history"; readonly record: DeployRecord }
);

export interface SharedStateOptions {
  /** A lock not renewed for this long is abandoned. */
  readonly leaseMs: number;
  /** How often a holder renews its lock; a third of the lease by default. */
  readonly renewMs?: number;
  /** Where the live selector sends traffic; loadState reports it as `active` when the record says otherwise. */
  readonly liveActive?: () => Colour;
  /** Deploys kept in the history, newest last; all by default. */
  readonly historyLimit?: number;
}

interface Stored {
  state: string | null;
  lock: DeployLock | null;
  request: HolderRequest | null;
  history: string[];
}

type Decide = (
  stored: ServiceState | null,
  lock: DeployLock | null,
  request: HolderRequest | null,
) => { state: ServiceState; lock: DeployLock | null; request?: HolderRequest | null } | null;

/** How long an asker waits for a deploy that left the state to show up in the history. */
const ENDING_WAIT_MS = 2_000;

/** The cluster's copy of the state, lock, request and history, which every process reads and writes. */
export class SharedState {
  readonly options: SharedStateOptions;
  readonly events: SharedEvent[] = [];
  readonly #stored: Stored = { state: null, lock: null, request: null, history: [] };
  #changed: { promise: Promise<void>; resolve: () => void } = signal();
  #processes = 0;
  readonly #logListeners = new Set<(event: SharedEvent) => void>();

  constructor(options: SharedStateOptions) {
    this.options = options;
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /** A new process (a CI runner) with its own view of the shared state; `name` is what its lock says. */
  process(name = `runner-${++this.#processes}`): SharedStateStore {
    return new SharedStateStore(this, new ProcessGate(name));
  }

  /** What is stored now (copies). */
  snapshot(): {
    state: ServiceState | null;
    lock: DeployLock | null;
    request: HolderRequest | null;
    history: DeployRecord[];
  } {
    const { state, lock, request, history } = this.#stored;
    return {
      state: state === null ? null : (JSON.parse(state) as ServiceState),
      lock,
      request,
      history: history.map((r) => JSON.parse(r) as DeployRecord),
    };
  }

  /** Resolves at the next write. */
  nextChange(): Promise<void> {
    return this.#changed.promise;
  }

  /** Resolves once what is stored satisfies `wanted` (now, if it does). */
  async until(wanted: (stored: ReturnType<SharedState["snapshot"]>) => boolean): Promise<void> {
    while (!wanted(this.snapshot())) await this.nextChange();
  }

  /** Resolves once the lock on the deploy in progress is abandoned (now, if it is), or nobody holds one. */
  async abandoned(): Promise<void> {
    for (;;) {
      const lock = this.#stored.lock;
      if (isAbandoned(lock, this.leaseMs)) return;
      const age = lock ? lockAge(lock) : null;
      if (age === null) return this.nextChange(); // never renewed: only a write changes that
      const wait = new AbortController();
      await Promise.race([
        this.nextChange(),
        sleep(this.leaseMs - age + 1, undefined, { signal: wait.signal }),
      ]);
      wait.abort();
    }
  }

  log(event: SharedEvent): void {
    this.events.push(event);
    for (const listener of [...this.#logListeners]) listener(event);
  }

  /** Calls `listener` with every event as it is logged (inside the write that logs it). */
  onLog(listener: (event: SharedEvent) => void): () => void {
    this.#logListeners.add(listener);
    return () => this.#logListeners.delete(listener);
  }

  /** One read of the Service (and the history ConfigMap), as it is when the read arrives. */
  read(): Stored {
    return {
      ...this.#stored,
      history: [...this.#stored.history],
    };
  }

  /** Read, decide, write, in one step (what optimistic concurrency makes of it). */
  write(by: string, decide: Decide): void {
    const stored = this.#stored;
    const state = stored.state === null ? null : (JSON.parse(stored.state) as ServiceState);
    const next = decide(state, stored.lock, stored.request);
    if (!next) return;
    stored.state = JSON.stringify(next.state);
    stored.lock = next.lock;
    if (next.request !== undefined) stored.request = next.request;
    this.log({
      type: "write",
      at: Date.now(),
      by,
      current: next.state.current === null ? null : structuredClone(next.state.current),
      active: next.state.active,
    });
    this.#notify();
  }

  appendHistory(by: string, record: DeployRecord): void {
    const text = JSON.stringify(record);
    const history = this.#stored.history.filter((r) => (JSON.parse(r) as DeployRecord).id !== record.id);
    history.push(text);
    const limit = this.options.historyLimit ?? Number.POSITIVE_INFINITY;
    this.#stored.history = history.slice(-limit);
    this.log({ type: "history", at: Date.now(), by, record: JSON.parse(text) as DeployRecord });
    this.#notify();
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = signal();
    changed.resolve();
  }
}

/** One process's StateStore over the shared state: storage, lease and channel, as annotationStateStore builds them. */
export class SharedStateStore implements StateStore {
  readonly storage: StateStorage;
  readonly lease: SharedLease;
  readonly channel: HolderChannel;
  readonly shared: SharedState;
  /** The process: kill() it (its lease stops renewing, nothing it asks completes), partition() it. */
  readonly gate: ProcessGate;

  constructor(shared: SharedState, gate: ProcessGate) {
    this.shared = shared;
    this.gate = gate;
    const channel = new SharedChannel(shared, gate);
    this.lease = new SharedLease(shared, gate, channel);
    this.channel = channel;
    this.storage = new SharedStorage(shared, gate, this.lease, channel);
  }

  get name(): string {
    return this.gate.name;
  }

  /** The process dies: its lock is no longer renewed, and nothing it asked for completes. */
  kill(): void {
    this.gate.kill();
    this.lease.letGo();
  }
}

class SharedStorage implements StateStorage {
  constructor(
    readonly shared: SharedState,
    readonly gate: ProcessGate,
    readonly lease: SharedLease,
    readonly channel: SharedChannel,
  ) {}

  loadState(): Promise<ServiceState | null> {
    return this.gate.call("reading the state", () => {
      const stored = this.shared.read();
      this.lease.noteLoaded(stored.lock);
      if (stored.state === null) return null;
      const state = JSON.parse(stored.state) as ServiceState;
      const live = this.shared.options.liveActive?.();
      if (live !== undefined) state.active = live;
      return state;
    });
  }

  async saveState(state: ServiceState): Promise<void> {
    const { lease } = this;
    const unfinished = isUnfinished(state.current);
    if (unfinished && !lease.held) {
      throw new CutoverError(
        "STATE_NOT_HELD",
        `this run does not hold deploy ${state.current?.id}; it writes no state for it`,
      );
    }
    let cleared = false;
    let asked: HolderRequest | null = null;
    const heldBefore = lease.held;
    const copy = JSON.parse(JSON.stringify(state)) as ServiceState;
    await this.gate.call("saving the deploy state", () =>
      this.shared.write(this.gate.name, (stored, lock, request) => {
        asked = null;
        lease.checkHeld(lock);
        lease.guard(stored, lock);
        cleared = !unfinished;
        if (!unfinished) return { state: copy, lock: null, request: null };
        const held = lease.held ? lease.newLock(lease.held.token) : null;
        if (request?.deploy !== copy.current?.id) return { state: copy, lock: held };
        asked = request;
        return { state: copy, lock: held, request: null };
      }),
    );
    if (cleared && lease.held === heldBefore) lease.release();
    this.channel.deliver(asked);
  }

  loadHistory(): Promise<DeployRecord[]> {
    return this.gate.call("reading the history", () =>
      this.shared.read().history.map((r) => JSON.parse(r) as DeployRecord),
    );
  }

  async appendHistory(record: DeployRecord): Promise<void> {
    await this.lease.checkStillHeld();
    const copy = JSON.parse(JSON.stringify(record)) as DeployRecord;
    await this.gate.call("writing the history", () => this.shared.appendHistory(this.gate.name, copy));
  }
}

export interface HeldLock {
  readonly token: string;
  readonly id: string;
}

export class SharedLease implements DeployLease {
  #held: HeldLock | null = null;
  #renewing: NodeJS.Timeout | null = null;
  readonly #lostListeners = new Set<(reason: string) => void>();
  #seen: { lock: DeployLock | null; at: number } | null = null;

  constructor(
    readonly shared: SharedState,
    readonly gate: ProcessGate,
    readonly channel: SharedChannel,
  ) {}

  get held(): HeldLock | null {
    return this.#held;
  }

  /** Whether this process renews a lock now. */
  get renewing(): boolean {
    return this.#renewing !== null;
  }

  newLock(token: string): DeployLock {
    return { token, holder: this.gate.name, renewedAt: new Date().toISOString() };
  }

  async claim(record: DeployRecord, recorded: string | null): Promise<void> {
    const token = randomUUID();
    const copy = JSON.parse(JSON.stringify(record)) as DeployRecord;
    await this.gate.call(`claiming the service for ${record.id}`, () =>
      this.shared.write(this.gate.name, (stored, lock) => {
        this.guard(stored, lock);
        // As annotation-lease.ts: an ended deploy the caller did not record is not replaced.
        const ended = stored?.current;
        if (ended && ended.id !== recorded)
          throw new CutoverError(
            "ENDING_UNRECORDED",
            `deploy ${ended.id} ended after this run read the state`,
          );
        const counted = stored?.deploys ?? 0;
        if (sequenceOf(record.id) <= counted)
          throw new CutoverError(
            "STATE_STALE",
            `another cutover has recorded ${counted} deploy(s) since this one read the state (it was about to start ${record.id}); run the command again`,
          );
        const base = stored ?? initialState(copy);
        // As annotation-lease.ts: the id is counted with the claim.
        const deploys = { deploys: Math.max(base.deploys, sequenceOf(record.id)) };
        const before = stored?.current ? structuredClone(stored.current) : null;
        this.shared.log({ type: "claim", at: Date.now(), by: this.gate.name, id: record.id, before });
        return { state: { ...base, ...deploys, current: copy }, lock: this.newLock(token), request: null };
      }),
    );
    this.#hold(token, record.id);
  }

  async takeOver(record: DeployRecord): Promise<string | null> {
    const token = randomUUID();
    let abandoned: string | null = null;
    await this.gate.call(`taking over ${record.id}`, () =>
      this.shared.write(this.gate.name, (stored, lock) => {
        const current = stored?.current;
        const now = Date.now();
        const lockAgeMs = lock ? lockAge(lock, now) : null;
        const rule = takeOverRule(current, record.id, !isAbandoned(lock, this.shared.leaseMs, now));
        const refused = () =>
          this.shared.log({
            type: "takeover-refused",
            at: Date.now(),
            by: this.gate.name,
            id: record.id,
            record: current ? structuredClone(current) : null,
            lockAgeMs,
            rule,
          });
        if (rule === "gone" || !stored || !current) {
          refused();
          const now = current ? `deploy ${current.id} is ${current.phase}` : "no deploy is in progress";
          throw new CutoverError("NOT_PAUSED", `${now}; there is no deploy ${record.id} to take over`);
        }
        if (rule === "held") {
          refused();
          throw new DeployLockedError(current, lock, this.shared.leaseMs, "the shared state");
        }
        abandoned = rule === "abandoned" ? abandonedBy(lock) : null;
        this.shared.log({
          type: "takeover",
          at: Date.now(),
          by: this.gate.name,
          id: record.id,
          record: structuredClone(current),
          from: lock,
          lockAgeMs,
          rule,
        });
        return { state: stored, lock: this.newLock(token), request: null };
      }),
    );
    this.#hold(token, record.id);
    return abandoned;
  }

  letGo(): void {
    if (this.#renewing) clearInterval(this.#renewing);
    this.#renewing = null;
  }

  onLost(listener: (reason: string) => void): void {
    this.#lostListeners.add(listener);
  }

  holder(): string | null {
    const lock = this.#seen?.lock;
    if (!this.#seen || !lock) return null;
    const age = lockAge(lock, this.#seen.at);
    const state =
      age === null ? "a lock that is never renewed" : `lock renewed ${formatDuration(age)} before this read`;
    const abandoned =
      age !== null && age > this.shared.leaseMs
        ? `; abandoned (lease ${formatDuration(this.shared.leaseMs)})`
        : "";
    return `${lock.holder} (${state}${abandoned})`;
  }

  noteLoaded(lock: DeployLock | null): void {
    this.#seen = { lock, at: Date.now() };
  }

  guard(stored: ServiceState | null, lock: DeployLock | null): void {
    const holder = stored?.current;
    if (!isUnfinished(holder)) return;
    if (this.#held !== null && lock?.token === this.#held.token) return;
    throw new DeployLockedError(holder, lock, this.shared.leaseMs, "the shared state");
  }

  checkHeld(lock: DeployLock | null): void {
    const held = this.#held;
    if (!held || lock?.token === held.token) return;
    const by = lock ? lock.holder : "nobody (the lock was removed)";
    const reason = `another cutover took over deploy ${held.id} (its lock is now held by ${by})`;
    this.release();
    this.shared.log({ type: "lost", at: Date.now(), by: this.gate.name, id: held.id, reason });
    for (const listener of this.#lostListeners) queueMicrotask(() => listener(reason));
    throw new CutoverError("LOCK_LOST", reason);
  }

  async checkStillHeld(): Promise<void> {
    if (!this.#held) return;
    const { lock } = await this.gate.call("reading the lock", () => this.shared.read());
    this.checkHeld(lock);
  }

  release(): void {
    this.letGo();
    this.#held = null;
  }

  #hold(token: string, id: string): void {
    this.letGo();
    this.#held = { token, id };
    if (this.gate.dead) return;
    const renew = () =>
      this.#renew(token).catch((error: unknown) => {
        if ((error as CutoverError).code === "LOCK_LOST") return; // told the listeners
        // Cut off from the cluster: tried again at the next tick, as the real lease does.
      });
    const every = this.shared.options.renewMs ?? Math.max(1, Math.floor(this.shared.leaseMs / 3));
    this.#renewing = setInterval(renew, every);
    this.#renewing.unref();
  }

  async #renew(token: string): Promise<void> {
    let asked: HolderRequest | null = null;
    await this.gate.call("renewing the deploy lock", () =>
      this.shared.write(this.gate.name, (stored, lock, request) => {
        asked = null;
        if (this.#held?.token !== token) return null; // released meanwhile
        this.checkHeld(lock);
        if (!stored || !isUnfinished(stored.current)) {
          this.letGo();
          return null;
        }
        if (request?.deploy !== stored.current.id) return { state: stored, lock: this.newLock(token) };
        asked = request;
        return { state: stored, lock: this.newLock(token), request: null };
      }),
    );
    this.channel.deliver(asked);
  }
}

class SharedChannel implements HolderChannel {
  readonly #listeners = new Set<(action: HolderAction, by: string) => void>();

  constructor(
    readonly shared: SharedState,
    readonly gate: ProcessGate,
  ) {}

  onRequest(listener: (action: HolderAction, by: string) => void): void {
    this.#listeners.add(listener);
  }

  deliver(asked: HolderRequest | null): void {
    if (!asked || this.gate.dead) return;
    this.shared.log({ type: "request-taken", at: Date.now(), by: this.gate.name, request: asked });
    for (const listener of this.#listeners) listener(asked.action, asked.by);
  }

  async ask(record: DeployRecord, action: HolderAction): Promise<DeployRecord> {
    const mine: HolderRequest = {
      action,
      deploy: record.id,
      by: this.gate.name,
      at: `${new Date().toISOString()} ${randomUUID()}`,
    };
    const renewedAtAsking = await this.#request(record, mine);
    let taken = false;
    let goneAt: number | null = null;
    while (true) {
      await this.#nextLook();
      const stored = await this.gate.call("reading the state", () => this.shared.read());
      const state = stored.state === null ? null : (JSON.parse(stored.state) as ServiceState);
      const current = state?.current;
      if (!isUnfinished(current) || current.id !== record.id) {
        const ended = stored.history
          .map((r) => JSON.parse(r) as DeployRecord)
          .find((r) => r.id === record.id);
        if (ended) return ended;
        goneAt ??= Date.now();
        if (Date.now() - goneAt > ENDING_WAIT_MS)
          throw new CutoverError(
            "NO_ANSWER",
            `deploy ${record.id} is no longer in progress, and its ending is not in the history; see \`cutover history\``,
          );
        continue;
      }
      const { request, lock } = stored;
      const pending = request?.at === mine.at && request.by === mine.by;
      if (!pending) taken = true;
      if (taken && action === "promote" && waitsForPerson(current)) return current;
      if (isAbandoned(lock, this.shared.leaseMs))
        throw new CutoverError(
          "HOLDER_GONE",
          `the run that held deploy ${record.id} stopped renewing its lock`,
        );
      if (pending && lock && lock.renewedAt !== renewedAtAsking)
        throw new CutoverError(
          "NOT_ASKABLE",
          `${lock.holder} renewed its lock but did not take the request (a cutover without requests?); stop that run, or wait for it`,
        );
    }
  }

  /** Until the shared object changes, the holder's lock would expire, or the ending wait is over. */
  async #nextLook(): Promise<void> {
    const { lock } = this.shared.read();
    const age = lock ? lockAge(lock) : null;
    const wait = age === null ? ENDING_WAIT_MS : Math.max(1, this.shared.leaseMs - age + 1);
    const cancel = new AbortController();
    await Promise.race([
      this.shared.nextChange(),
      sleep(Math.min(wait, ENDING_WAIT_MS), undefined, { signal: cancel.signal }).catch(() => {}),
    ]);
    cancel.abort();
  }

  async #request(record: DeployRecord, mine: HolderRequest): Promise<string | null> {
    const { action } = mine;
    let renewedAtAsking: string | null = null;
    await this.gate.call(`asking the holder of ${record.id} to ${action}`, () =>
      this.shared.write(this.gate.name, (stored, lock, request) => {
        const current = stored?.current;
        const rule = askRule(current, record.id, action, request);
        const refuse = (error: CutoverError): never => {
          this.shared.log({
            type: "ask-refused",
            at: Date.now(),
            by: this.gate.name,
            id: record.id,
            action,
            record: current ? structuredClone(current) : null,
            pending: request,
            code: error.code,
          });
          throw error;
        };
        if (rule === "nothing-to-do" || !stored || !current) {
          const now = current ? `deploy ${current.id} is ${current.phase}` : "no deploy is in progress";
          return refuse(new CutoverError("NOT_PAUSED", `${now}; there is nothing to ${action}`));
        }
        if (!lock || lockAge(lock) === null)
          return refuse(new DeployLockedError(current, lock, this.shared.leaseMs, "the shared state"));
        if (rule === "abort-pending")
          return refuse(
            new CutoverError(
              "ASKED",
              `${request?.by} has already asked deploy ${record.id} to abort; see \`cutover status\` in a few seconds`,
            ),
          );
        renewedAtAsking = lock.renewedAt;
        this.shared.log({
          type: "ask",
          at: Date.now(),
          by: this.gate.name,
          id: record.id,
          action,
          record: structuredClone(current),
          pending: request,
        });
        return { state: stored, lock, request: mine };
      }),
    );
    return renewedAtAsking;
  }
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The state to lock with when nothing was recorded yet; the engine's own state replaces it at once. */
function initialState(record: DeployRecord): ServiceState {
  const from = record.from.colour;
  const to = record.to.colour;
  const colours = {
    [from]: { version: record.from.version, running: true },
    [to]: { version: null, running: false },
  };
  return {
    schemaVersion: 1,
    active: from,
    colours: colours as ServiceState["colours"],
    current: null,
    deploys: 0,
  };
}

/** The number in a deploy id ("d12" → 12); 0 when there is none. */
function sequenceOf(id: string): number {
  const match = /(\d+)$/.exec(id);
  return match ? Number(match[1]) : 0;
}
