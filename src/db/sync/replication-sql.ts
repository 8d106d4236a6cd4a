import type { SqlClient } from "../runner/sql-client.js";
import { quoteIdent } from "../runner/sql-client.js";

/** The SQL of cutover's logical replication: subscriptions, slots, publications, positions, sequences. */

export interface SubscriptionRow {
  readonly name: string;
  readonly enabled: boolean;
  /** Tables it copies. */
  readonly tables: number;
  /** Of those, the ones whose initial copy has not finished. */
  readonly copying: number;
}

/** The subscriptions in the connected database whose names `owns` accepts. */
export async function subscriptions(
  client: SqlClient,
  owns: (name: string) => boolean,
): Promise<SubscriptionRow[]> {
  const { rows } = await client.query<{
    subname: string;
    subenabled: boolean;
    tables: string;
    copying: string;
  }>(
    `SELECT s.subname, s.subenabled,
            (SELECT count(*) FROM pg_subscription_rel r WHERE r.srsubid = s.oid) AS tables,
            (SELECT count(*) FROM pg_subscription_rel r WHERE r.srsubid = s.oid AND r.srsubstate NOT IN ('r', 's')) AS copying
     FROM pg_subscription s
     WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows
    .filter((r) => owns(r.subname))
    .map((r) => ({
      name: r.subname,
      enabled: r.subenabled,
      tables: Number(r.tables),
      copying: Number(r.copying),
    }));
}

export interface SlotRow {
  readonly name: string;
  readonly active: boolean;
  /** WAL kept for it (from its restart_lsn), in bytes. */
  readonly retainedBytes: number;
  /** WAL its subscriber has not confirmed (from confirmed_flush_lsn), in bytes. */
  readonly lagBytes: number;
  /** replay_lag of its walsender, in seconds; null when none streams or PostgreSQL has none to report. */
  readonly lagSeconds: number | null;
}

export async function slots(client: SqlClient, owns: (name: string) => boolean): Promise<SlotRow[]> {
  const { rows } = await client.query<{
    slot_name: string;
    active: boolean;
    retained: string | null;
    lag: string | null;
    lag_seconds: number | null;
  }>(
    `SELECT s.slot_name, s.active,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::text AS retained,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS lag,
            (SELECT extract(epoch FROM r.replay_lag)::float8 FROM pg_stat_replication r WHERE r.pid = s.active_pid) AS lag_seconds
     FROM pg_replication_slots s WHERE s.database = current_database()`,
  );
  return rows
    .filter((r) => owns(r.slot_name))
    .map((r) => ({
      name: r.slot_name,
      active: r.active,
      retainedBytes: Math.max(0, Number(r.retained ?? 0)),
      lagBytes: Math.max(0, Number(r.lag ?? 0)),
      lagSeconds: r.lag_seconds,
    }));
}

export async function createPublication(client: SqlClient, name: string, schema: string): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name]);
  if (rows.length > 0) return false;
  await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLES IN SCHEMA ${quoteIdent(schema)}`);
  return true;
}

export async function dropPublication(client: SqlClient, name: string): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name]);
  if (rows.length === 0) return false;
  await client.query(`DROP PUBLICATION ${quoteIdent(name)}`);
  return true;
}

export async function createSlot(client: SqlClient, name: string): Promise<void> {
  await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
}

/** Drops a slot, ending the walsender that streams from it first (a subscription just disabled may still hold it). */
export async function dropSlot(client: SqlClient, name: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query<{ active_pid: number | null }>(
      "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1",
      [name],
    );
    const row = rows[0];
    if (row === undefined) return false;
    if (row.active_pid !== null) {
      await client.query("SELECT pg_terminate_backend($1)", [row.active_pid]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      await client.query("SELECT pg_drop_replication_slot($1)", [name]);
      return true;
    } catch (error) {
      // 55006: the slot is active (a walsender took it again in between); try a few times.
      if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
    }
  }
}

/**
 * Creates a subscription of `publication` at `sourceUrl` that uses the slot named like it, made beforehand.
 * synchronous_commit on: the follower flushes each applied transaction at once and reports it, so a
 * switchover sees it caught up without waiting for the WAL writer (its default, off, added ~200 ms).
 */
export async function createSubscription(
  client: SqlClient,
  name: string,
  sourceUrl: string,
  publication: string,
  options: { readonly copyData: boolean; readonly enabled: boolean },
): Promise<void> {
  const connection = sourceUrl.replaceAll("'", "''");
  await client.query(
    `CREATE SUBSCRIPTION ${quoteIdent(name)} CONNECTION '${connection}' PUBLICATION ${quoteIdent(publication)}
     WITH (create_slot = false, slot_name = '${name}', copy_data = ${options.copyData}, enabled = ${options.enabled}, synchronous_commit = 'on')`,
  );
}

export async function setSubscriptionEnabled(
  client: SqlClient,
  name: string,
  enabled: boolean,
): Promise<void> {
  await client.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} ${enabled ? "ENABLE" : "DISABLE"}`);
}

/**
 * Drops a subscription, and with it (when its source answers) its slot and the slots of unfinished initial
 * copies there. When the source does not answer, only the subscription goes: dropSlot on the source, later,
 * drops its slot (an initial copy's slot, pg_<oid>_sync_..., is then reported by the source's own views).
 */
export async function dropSubscription(client: SqlClient, name: string): Promise<boolean> {
  const { rows } = await client.query<{ subenabled: boolean }>(
    "SELECT subenabled FROM pg_subscription WHERE subname = $1",
    [name],
  );
  if (rows.length === 0) return false;
  try {
    await client.query(`DROP SUBSCRIPTION ${quoteIdent(name)}`);
    return true;
  } catch {
    // The source did not answer, or has no slot of that name (a way back prepared but never used).
  }
  if (rows[0]?.subenabled) await setSubscriptionEnabled(client, name, false);
  await client.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} SET (slot_name = NONE)`);
  await client.query(`DROP SUBSCRIPTION ${quoteIdent(name)}`);
  return true;
}

/**
 * Where the connected server's WAL ends now: the insert position, not the write position, so a commit
 * acknowledged under synchronous_commit = off (its WAL not written yet) is before it too.
 */
export async function currentLsn(client: SqlClient): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
  return (rows[0] as { lsn: string }).lsn;
}

/** Moves a logical slot on to the server's flushed WAL: what came before it is never sent. */
export async function advanceSlot(client: SqlClient, name: string): Promise<void> {
  await client.query("SELECT pg_replication_slot_advance($1, pg_current_wal_flush_lsn())", [name]);
}

/**
 * Resolves once no worker of the disabled subscription runs. DISABLE alone stops them at their next wake-up
 * (up to a second later); ended at once, they are not started again (the subscription is disabled), and what
 * one had not committed is applied again, from its slot, whenever the subscription is enabled again.
 */
export async function workersGone(client: SqlClient, name: string, deadlineMs: number): Promise<boolean> {
  await client.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL",
    [name],
  );
  for (;;) {
    const { rows } = await client.query(
      "SELECT 1 FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL",
      [name],
    );
    if (rows.length === 0) return true;
    if (Date.now() >= deadlineMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Apply and initial-copy errors of the subscription since it was made (pg_stat_subscription_stats). */
export async function applyErrors(client: SqlClient, name: string): Promise<number | null> {
  const { rows } = await client.query<{ errors: string }>(
    "SELECT (apply_error_count + sync_error_count)::text AS errors FROM pg_stat_subscription_stats WHERE subname = $1",
    [name],
  );
  return rows[0] === undefined ? null : Number(rows[0].errors);
}

/** Whether the subscriber of `slot` has confirmed (applied and flushed) everything up to `lsn`. */
export async function confirmedPast(client: SqlClient, slot: string, lsn: string): Promise<boolean> {
  const { rows } = await client.query<{ done: boolean | null }>(
    "SELECT confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1",
    [slot, lsn],
  );
  return rows[0]?.done === true;
}

interface SequenceValue {
  readonly last: bigint;
  readonly called: boolean;
  /** Its increment is negative: "ahead" means lower. */
  readonly descending: boolean;
}

/** Each sequence of the schema with where it stands (last_value and is_called, read from the sequence itself). */
export async function sequenceValues(client: SqlClient, schema: string): Promise<Map<string, SequenceValue>> {
  const { rows } = await client.query<{ relname: string; descending: boolean }>(
    `SELECT c.relname, s.seqincrement < 0 AS descending FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
     WHERE n.nspname = $1 AND c.relkind = 'S'`,
    [schema],
  );
  const values = new Map<string, SequenceValue>();
  for (const row of rows) {
    const { rows: read } = await client.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text, is_called FROM ${quoteIdent(schema)}.${quoteIdent(row.relname)}`,
    );
    const value = read[0];
    if (value)
      values.set(row.relname, {
        last: BigInt(value.last_value),
        called: value.is_called,
        descending: row.descending,
      });
  }
  return values;
}

/** Whether `a` would hand out a value `b` has handed out or will hand out first. */
function behind(a: SequenceValue, b: SequenceValue): boolean {
  if (a.last === b.last) return !a.called && b.called;
  return a.descending ? a.last > b.last : a.last < b.last;
}

/**
 * Moves each of the follower's sequences that is behind the source's to where the source's is (value and
 * is_called), so the next value either hands out is one neither has used. Returns how many it moved.
 */
export async function copySequences(source: SqlClient, follower: SqlClient, schema: string): Promise<number> {
  const [from, to] = await Promise.all([sequenceValues(source, schema), sequenceValues(follower, schema)]);
  let set = 0;
  for (const [name, value] of from) {
    const own = to.get(name);
    if (own === undefined || !behind(own, value)) continue;
    await follower.query("SELECT setval($1::regclass, $2::bigint, $3)", [
      `${quoteIdent(schema)}.${quoteIdent(name)}`,
      value.last.toString(),
      value.called,
    ]);
    set++;
  }
  return set;
}

const MARKER_TABLE = "cutover.sync_replica";

/** Marks the connected database as a copy cutover keeps of `service`'s live one (it may empty it to copy again). */
export async function markReplica(client: SqlClient, service: string, source: string): Promise<void> {
  await client.query("CREATE SCHEMA IF NOT EXISTS cutover");
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (service text PRIMARY KEY, source text NOT NULL, since timestamptz NOT NULL DEFAULT now())`,
  );
  await client.query(
    `INSERT INTO ${MARKER_TABLE} (service, source) VALUES ($1, $2)
     ON CONFLICT (service) DO UPDATE SET source = EXCLUDED.source, since = now()`,
    [service, source],
  );
}

/** The connected database is the live one now: it is nobody's copy. */
export async function unmarkReplica(client: SqlClient, service: string): Promise<void> {
  if (!(await hasMarkerTable(client))) return;
  await client.query(`DELETE FROM ${MARKER_TABLE} WHERE service = $1`, [service]);
}

export async function isReplica(client: SqlClient, service: string): Promise<boolean> {
  if (!(await hasMarkerTable(client))) return false;
  const { rows } = await client.query(`SELECT 1 FROM ${MARKER_TABLE} WHERE service = $1`, [service]);
  return rows.length > 0;
}

async function hasMarkerTable(client: SqlClient): Promise<boolean> {
  const { rows } = await client.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [
    MARKER_TABLE,
  ]);
  return rows[0]?.found != null;
}

/** Bounds every statement of `client` (locks included) by the time left until `deadlineMs`. */
export async function bound(client: SqlClient, deadlineMs: number): Promise<void> {
  const ms = Math.max(1, deadlineMs - Date.now());
  await client.query(`SET statement_timeout = ${ms}`);
  await client.query(`SET lock_timeout = ${ms}`);
}

export async function unbound(client: SqlClient): Promise<void> {
  await client.query("RESET statement_timeout").catch(() => undefined);
  await client.query("RESET lock_timeout").catch(() => undefined);
}
