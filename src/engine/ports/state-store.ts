import type { Colour } from "../../colour.js";
import type { DeployRecord } from "../deploy-record.js";

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

/**
 * Where the engine keeps what must survive a restart. The local platform keeps it in files under
 * .cutover/; another platform may keep it where its other users can see it (e.g. annotations).
 */
export interface StateStore {
  loadState(): Promise<ServiceState | null>;
  saveState(state: ServiceState): Promise<void>;
  loadHistory(): Promise<DeployRecord[]>;
  /**
   * Records `record` as the deploy in progress. A store that several processes share (e.g. annotations in a
   * cluster) refuses with DeployInProgressError when it already holds another one; that is the lock.
   */
  claim(record: DeployRecord): Promise<void>;
  /**
   * Moves the lock of `record`, which another process recorded, to this process, so it can promote or abort
   * it: a paused deploy, or one whose process is gone (a store several processes share knows that by a
   * lock its holder stopped renewing, and says who that was). Refuses while another process still runs it,
   * and (NOT_PAUSED) when the store no longer holds that deploy unfinished.
   */
  takeOver(record: DeployRecord): Promise<string | null>;
  /** Stops keeping the lock alive: this process lets go of the deploy (left paused, or shutting down). */
  letGo?(): void;
  /**
   * A store several processes share tells when another process took over the deploy this one holds (after
   * its lock was not renewed in time): this process must then stop acting for it.
   */
  onLockLost?(listener: (reason: string) => void): void;
  /** Who held the deploy in progress when the state was loaded, and how fresh the lock was then. */
  holder?(): string | null;
  /**
   * Asks the live process that holds `record` to promote or abort it, and waits for the outcome: how
   * `cutover promote` / `cutover abort` reach a deploy another process runs (a store several share).
   */
  ask?(record: DeployRecord, action: "promote" | "abort"): Promise<DeployRecord>;
  /** Calls `listener` when another process asks this one's deploy to promote or abort. */
  onRequest?(listener: (action: "promote" | "abort", by: string) => void): void;
  /** Adds `record`, replacing an entry with the same id, so a retry never duplicates one. */
  appendHistory(record: DeployRecord): Promise<void>;
}
