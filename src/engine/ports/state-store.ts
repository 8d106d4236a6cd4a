import type { Colour } from "../../colour.js";
import type { DeployRecord, HolderAction } from "../lifecycle.js";

export interface ColourState {
  /** The version this colour runs, or last ran; null when it never ran anything. */
  version: string | null;
  /** Whether its replicas are meant to be running. */
  running: boolean;
}

/** What survives a restart of the daemon: which colour is live with which versions, and the deploy in flight. */
export interface ServiceState {
  readonly schemaVersion: 1;
  active: Colour;
  colours: Record<Colour, ColourState>;
  /** The deploy or rollback in progress, if any. */
  current: DeployRecord | null;
  /** Sequence for deploy ids. */
  deploys: number;
}

/** The state of a service nothing was recorded for yet: blue serves `version`, green never ran. */
export function firstState(version: string): ServiceState {
  return {
    schemaVersion: 1,
    active: "blue",
    colours: { blue: { version, running: true }, green: { version: null, running: false } },
    current: null,
    deploys: 0,
  };
}

/**
 * Where the engine keeps what must survive a restart. The local platform keeps it in files under
 * .cutover/; another platform may keep it where its other users can see it (e.g. annotations).
 */
export interface StateStorage {
  loadState(): Promise<ServiceState | null>;
  saveState(state: ServiceState): Promise<void>;
  loadHistory(): Promise<DeployRecord[]>;
  /** Adds `record`, replacing an entry with the same id, so a retry never duplicates one. */
  appendHistory(record: DeployRecord): Promise<void>;
}

/**
 * The one-deploy-at-a-time lock beyond this process. On one machine the daemon is the only process that
 * acts (its pid file says so), and the lease has nothing to do; where several processes share the state
 * (CI runners against one cluster) the deploy in progress is the lock, renewed by its holder.
 */
export interface DeployLease {
  /**
   * Records `record` as the deploy in progress. A lease several processes share refuses with
   * DeployInProgressError when it already holds another one, and with ENDING_UNRECORDED when the state holds
   * an ended deploy other than `recorded` (the one the caller saw and put in the history): its run may have
   * died before the history write, and the claim would replace it.
   */
  claim(record: DeployRecord, recorded: string | null): Promise<void>;
  /**
   * Moves the lock of `record`, which another process recorded, to this process (see `takeOverRule` in
   * lifecycle.ts for when that is allowed). Says who abandoned it, or null when it was left paused.
   */
  takeOver(record: DeployRecord): Promise<string | null>;
  /** Stops keeping the lock alive: this process lets go of the deploy (left paused, or shutting down). */
  letGo(): void;
  /** Calls `listener` when another process took over the deploy this one holds: this one must stop acting. */
  onLost(listener: (reason: string) => void): void;
  /** Who held the deploy in progress when the state was loaded, and how fresh the lock was then; null if nobody. */
  holder(): string | null;
}

/**
 * How one process asks another, live one that holds a deploy to promote or abort it. On one machine the
 * CLI asks the daemon over its admin API instead, so the local platform has no channel.
 */
export interface HolderChannel {
  /** Asks the live holder of `record` to `action` it and waits for the outcome (HOLDER_GONE if it dies first). */
  ask(record: DeployRecord, action: HolderAction): Promise<DeployRecord>;
  /** Calls `listener` when another process asks this one's deploy to promote or abort. */
  onRequest(listener: (action: HolderAction, by: string) => void): void;
}

/** Everything the engine keeps beyond its process, in the parts a platform has. */
export interface StateStore {
  readonly storage: StateStorage;
  readonly lease: DeployLease;
  /** null where no other process can hold a deploy (one machine: the daemon). */
  readonly channel: HolderChannel | null;
}
