import type { Colour } from "../../colour.js";

/** Where the logical replication between the colours' databases stands (database.sync: logical). */
export type SyncState =
  /** The follower's initial copy of the live database is still running. */
  | "copying"
  /** The follower replays what the live database writes. */
  | "streaming"
  /** A subscription is enabled but its connection to the live database is not up (yet): a lag grows. */
  | "disconnected"
  /** The follower's subscription is disabled: it does not replay anything. */
  | "disabled"
  /** No database follows the other: not prepared yet, or stopped (at contract, or `cutover db sync stop`). */
  | "stopped";

/** A replication slot of cutover's on one of the databases. Slots keep WAL until they are dropped. */
export interface SyncSlot {
  readonly database: Colour;
  readonly name: string;
  /** A walsender streams from it now. */
  readonly active: boolean;
  /** No subscription of cutover's uses it: it only keeps WAL, filling the disk; `cutover db sync stop` drops it. */
  readonly abandoned: boolean;
  /** WAL the server keeps for it, in bytes. */
  readonly retainedBytes: number;
}

/** One reading of the sync, for `cutover status`, the metrics and the dashboard. */
export interface SyncReading {
  readonly state: SyncState;
  /** The database that is copied from (the live colour's) and the one that follows it; null when stopped. */
  readonly source: Colour | null;
  readonly follower: Colour | null;
  /** WAL the follower has not confirmed yet, in bytes; null when nothing follows. */
  readonly lagBytes: number | null;
  /** How far behind the follower replays, in seconds (PostgreSQL's replay_lag); null when nothing streams. */
  readonly lagSeconds: number | null;
  /**
   * Errors the follower met applying or copying rows (a key that exists there already, a missing column):
   * replication stops at each until it is fixed; null when nothing follows.
   */
  readonly applyErrors: number | null;
  readonly slots: readonly SyncSlot[];
  /** When it was read (ISO 8601). */
  readonly readAt: string;
  /** Why the reading is incomplete (a database did not answer), if it is. */
  readonly problem?: string;
}

/** The reason a database switchover gives the hold it puts on (`cutover resume` may not end such a hold). */
export const SWITCHOVER_HOLD = "database switchover";

/** What the switch step learns from a database switchover. */
export interface SwitchoverResult {
  /** How long the new colour's database took to replay everything the old one had written. */
  readonly caughtUpMs: number;
  /** Sequences set past the old database's values. */
  readonly sequences: number;
}

/**
 * The databases of the two colours kept in sync by logical replication. The engine holds requests at the
 * router around switchover(); preparing the follower before a deploy is part of DeployMigrator.expand.
 */
export interface DatabaseSync {
  /** database.switchoverTimeout: the longest requests are held at a switch. */
  readonly switchoverTimeoutMs: number;
  /**
   * Refuses (SYNC_NOT_STREAMING) unless `to`'s database follows `from`'s and has copied everything, and
   * prepares the way back (a disabled subscription of `from`'s database to `to`'s). Called before requests
   * are held, so the hold is short.
   */
  ready(from: Colour, to: Colour): Promise<void>;
  /**
   * With requests held and none in flight on `from`: waits (until `deadlineMs`, a Date.now() value) until
   * `to`'s database has replayed everything `from`'s wrote, sets `to`'s sequences past `from`'s, stops the
   * replication `from` -> `to` and starts `to` -> `from`, so `from` keeps every write for a way back. On a
   * timeout (SWITCHOVER_TIMEOUT) or any error it undoes what it did: `to` follows `from` as before.
   */
  switchover(from: Colour, to: Colour, deadlineMs: number): Promise<SwitchoverResult>;
  /**
   * After a switchover() whose traffic did not move (the hold ended under it): `to` follows `from` again
   * and the way back is stopped, as if switchover() had not run. abandon() then drops the way back.
   */
  undo(from: Colour, to: Colour): Promise<void>;
  /** The switchover did not happen (or failed): drops the way back ready() prepared; `to` still follows `from`. */
  abandon(from: Colour, to: Colour): Promise<void>;
  /** After traffic moved: drops the stopped subscription `from` -> `to` and its slot. */
  afterSwitch(from: Colour, to: Colour): Promise<void>;
  read(): Promise<SyncReading>;
  /** Drops every subscription, publication and slot of cutover's on both databases; says what it dropped. */
  stop(): Promise<string>;
}
