import type { Logger } from "pino";
import type { LockBusyMode } from "../../config/database-schema.js";
import { MigrationLockBusyError } from "../migration-errors.js";
import { sleep } from "./sleep.js";
import type { SqlClient } from "./sql-client.js";

/** The two keys of pg_try_advisory_lock(int, int): "cutv" and 1. One lock per database. */
const LOCK_CLASS = 0x63757476;
const LOCK_OBJECT = 1;

export interface MigrationLockOptions {
  readonly whenBusy: LockBusyMode;
  readonly waitTimeoutMs: number;
  readonly pollIntervalMs: number;
  /** Passed on from the runner's caller; undefined (or absent): nothing aborts it. */
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
}

/** A held session-level advisory lock. */
export interface HeldLock {
  readonly waitedMs: number;
  release(): Promise<void>;
}

/**
 * Takes the migration lock by polling pg_try_advisory_lock: a runner never sits in the lock queue (where a
 * waiting advisory lock can deadlock with CREATE INDEX CONCURRENTLY), and can give up on time.
 */
export async function takeMigrationLock(client: SqlClient, options: MigrationLockOptions): Promise<HeldLock> {
  const started = performance.now();
  const deadline = Date.now() + options.waitTimeoutMs;
  let announced = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryLock(client)) {
      const waitedMs = Math.round(performance.now() - started);
      options.logger.info({ waitedMs }, "migration lock taken");
      return { waitedMs, release: () => release(client, options.logger) };
    }
    const holder = await lockHolder(client);
    if (options.whenBusy === "fail") throw new MigrationLockBusyError(holder);
    if (Date.now() >= deadline) {
      throw new MigrationLockBusyError(`${holder}; gave up after ${options.waitTimeoutMs}ms`);
    }
    if (!announced) options.logger.info({ holder }, "waiting for the migration lock");
    announced = true;
    await sleep(options.pollIntervalMs, options.signal);
  }
}

async function tryLock(client: SqlClient): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [
    LOCK_CLASS,
    LOCK_OBJECT,
  ]);
  return result.rows[0]?.locked === true;
}

async function release(client: SqlClient, logger: Logger): Promise<void> {
  await client.query("SELECT pg_advisory_unlock($1, $2)", [LOCK_CLASS, LOCK_OBJECT]);
  logger.info("migration lock released");
}

/** Who holds the lock, in words: "pid 4242, cutover migrate on alice@build-7". */
async function lockHolder(client: SqlClient): Promise<string> {
  const result = await client.query<{ pid: number; application_name: string | null }>(
    `SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted LIMIT 1`,
    [LOCK_CLASS, LOCK_OBJECT],
  );
  const row = result.rows[0];
  if (!row) return "it was released a moment ago";
  return `pid ${row.pid}${row.application_name ? `, ${row.application_name}` : ""}`;
}
