import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { formatDuration } from "../../duration.js";
import { type DeployRecord, isUnfinished, takeOverRule } from "../../engine/lifecycle.js";
import type { DeployLease, ServiceState } from "../../engine/ports/state-store.js";
import { CutoverError } from "../../errors.js";
import type { AnnotationHolderChannel } from "./annotation-holder-channel.js";
import {
  abandonedBy,
  type DeployLock,
  DeployLockedError,
  isAbandoned,
  lockAge,
  newLock,
} from "./deploy-lock.js";
import { type HolderRequest, lockOf, type ServiceAnnotations } from "./service-annotations.js";

export interface AnnotationLeaseOptions {
  readonly annotations: ServiceAnnotations;
  /** Takes what another run asked, which every renewal of the lock also takes in. */
  readonly channel: AnnotationHolderChannel;
  /** A lock not renewed for this long is abandoned; the holder renews it every third of it. */
  readonly leaseMs: number;
  readonly logger: Logger;
}

/** The lock this process took, and the deploy it took it for. */
export interface HeldLock {
  readonly token: string;
  readonly id: string;
}

/** Another cutover wrote deploys this process has not seen: its view of the service is stale. */
export class StaleStateError extends CutoverError {
  constructor(id: string, recorded: number) {
    super(
      "STATE_STALE",
      `another cutover has recorded ${recorded} deploy(s) since this one read the state (it was about to start ${id}); run the command again`,
    );
    this.name = "StaleStateError";
  }
}

/**
 * The deploy in progress is the lock: `claim` refuses while another unfinished one is recorded, and records
 * a random token beside it (`cutover.dev/lock`); no write from a process without that token replaces or
 * clears an unfinished deploy. The holder renews the lock while its deploy runs; a deploy whose lock is
 * older than the lease was abandoned (its runner was killed) and `takeOver` lets `cutover abort` close it.
 */
export class AnnotationLease implements DeployLease {
  readonly #o: AnnotationLeaseOptions;
  /** The lock this process took, and the deploy it took it for; only that deploy may be replaced or cleared. */
  #held: HeldLock | null = null;
  #renewing: NodeJS.Timeout | null = null;
  readonly #lostListeners = new Set<(reason: string) => void>();
  /** The lock as the state was last loaded with, and when. */
  #seen: { lock: DeployLock | null; at: number } | null = null;

  constructor(options: AnnotationLeaseOptions) {
    this.#o = options;
  }

  /** The lock this process holds, if any. */
  get held(): HeldLock | null {
    return this.#held;
  }

  async claim(record: DeployRecord, recorded: string | null): Promise<void> {
    const token = randomUUID();
    await this.#o.annotations.write(`claiming the service for ${record.id}`, (stored, lock) => {
      this.guard(stored, lock);
      const ended = stored?.current;
      if (ended && ended.id !== recorded)
        throw new CutoverError("ENDING_UNRECORDED", `deploy ${ended.id} ended after this run read the state`);
      const counted = stored?.deploys ?? 0;
      if (sequenceOf(record.id) <= counted) throw new StaleStateError(record.id, counted);
      const base = stored ?? initialState(record);
      // The id is counted with the claim: a runner that dies before its next write must not leave it to be
      // handed out again.
      const deploys = Math.max(counted, sequenceOf(record.id));
      return { state: { ...base, current: record, deploys }, lock: newLock(token), request: null };
    });
    this.#hold(token, record.id);
  }

  /**
   * Takes the lock of `record` when it is paused (left for a later run), or abandoned: unfinished (or paused
   * with a delay, which its process waits out) and its lock not renewed within the lease. Says who abandoned
   * it, or null for a paused one.
   */
  async takeOver(record: DeployRecord): Promise<string | null> {
    const token = randomUUID();
    let abandoned: string | null = null;
    await this.#o.annotations.write(`taking over ${record.id}`, (stored, lock) => {
      const current = stored?.current;
      const rule = takeOverRule(current, record.id, !isAbandoned(lock, this.#o.leaseMs));
      if (rule === "gone" || !stored || !current) {
        const now = current ? `deploy ${current.id} is ${current.phase}` : "no deploy is in progress";
        throw new CutoverError("NOT_PAUSED", `${now}; there is no deploy ${record.id} to take over`);
      }
      // A pause with a delay is held by the process that waits it out, while that process lives.
      if (rule === "held")
        throw new DeployLockedError(current, lock, this.#o.leaseMs, this.#o.annotations.name);
      abandoned = rule === "abandoned" ? abandonedBy(lock) : null;
      return { state: stored, lock: newLock(token), request: null };
    });
    this.#hold(token, record.id);
    return abandoned;
  }

  /** Stops renewing the lock: the deploy is over, or left paused for another run. */
  letGo(): void {
    if (this.#renewing) clearInterval(this.#renewing);
    this.#renewing = null;
  }

  /** Calls `listener` once this process finds that another took over the deploy it holds. */
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
      age !== null && age > this.#o.leaseMs ? `; abandoned (lease ${formatDuration(this.#o.leaseMs)})` : "";
    return `${lock.holder} (${state}${abandoned})`;
  }

  /** Notes the lock the state was loaded with, for `holder()`. */
  noteLoaded(lock: DeployLock | null): void {
    this.#seen = { lock, at: Date.now() };
  }

  /** Refuses a write while an unfinished deploy is recorded under a lock this process did not take. */
  guard(stored: ServiceState | null, lock: DeployLock | null): void {
    const holder = stored?.current;
    if (!isUnfinished(holder)) return;
    if (this.#held !== null && lock?.token === this.#held.token) return;
    throw new DeployLockedError(holder, lock, this.#o.leaseMs, this.#o.annotations.name);
  }

  /**
   * While this process holds a deploy (from its claim or takeover until it writes the deploy as over), the
   * lock must be its own. If it is not, another run took the deploy over (after the lease) or the lock was
   * removed by hand: this process must stop acting for it. Throws after telling the listeners.
   */
  checkHeld(lock: DeployLock | null): void {
    const held = this.#held;
    if (!held || lock?.token === held.token) return;
    const by = lock ? lock.holder : "nobody (the lock was removed)";
    const reason = `another cutover took over deploy ${held.id} (its lock is now held by ${by})`;
    this.release();
    this.#o.logger.error({ deploy: held.id, holder: lock?.holder ?? null }, "lost the deploy lock");
    for (const listener of this.#lostListeners) queueMicrotask(() => listener(reason));
    throw new CutoverError("LOCK_LOST", reason);
  }

  /** `checkHeld` against the lock the Service holds now, while this process holds a deploy. */
  async checkStillHeld(): Promise<void> {
    if (this.#held) this.checkHeld(lockOf(await this.#o.annotations.read()));
  }

  /** Forgets the lock: the deploy it was taken for was written as over (or lost to another run). */
  release(): void {
    this.letGo();
    this.#held = null;
  }

  /** Holds the lock under `token` for deploy `id`, and renews it every third of the lease until it is released. */
  #hold(token: string, id: string): void {
    this.letGo();
    this.#held = { token, id };
    const renew = () =>
      this.#renew(token).catch((error: unknown) => {
        if ((error as CutoverError).code === "LOCK_LOST") return; // told the listeners
        this.#o.logger.warn(
          { err: (error as Error).message },
          "renewing the deploy lock failed; trying again",
        );
      });
    this.#renewing = setInterval(renew, Math.max(100, Math.floor(this.#o.leaseMs / 3)));
    this.#renewing.unref();
  }

  /** Renews the lock, and takes in what another run asked of this deploy (answered once the write is in). */
  async #renew(token: string): Promise<void> {
    let asked: HolderRequest | null = null;
    await this.#o.annotations.write("renewing the deploy lock", (stored, lock, request) => {
      asked = null;
      if (this.#held?.token !== token) return null; // released meanwhile
      this.checkHeld(lock);
      if (!stored || !isUnfinished(stored.current)) {
        this.letGo(); // written as over by this process; nothing left to keep alive
        return null;
      }
      if (request?.deploy !== stored.current.id) return { state: stored, lock: newLock(token) };
      asked = request;
      return { state: stored, lock: newLock(token), request: null };
    });
    this.#o.channel.deliver(asked);
  }
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
