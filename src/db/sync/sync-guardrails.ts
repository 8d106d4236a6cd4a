import { CutoverError } from "../../errors.js";
import type { SqlClient } from "../runner/sql-client.js";
import { quoteIdent } from "../runner/sql-client.js";
import type { SyncSide } from "./sync-side.js";

/** What stops the sync before anything is created (each with its fix), and what it will do that a person should know. */
export interface GuardrailVerdict {
  readonly problems: string[];
  readonly notes: string[];
}

/**
 * Checks everything logical replication needs before cutover creates anything: both servers on
 * wal_level=logical (the way back publishes from the follower), superuser (CREATE SUBSCRIPTION on
 * PostgreSQL 15), free replication slots, two different databases, a primary key or replica identity on
 * every table of the source's schema, no objects logical replication does not copy, and a follower that is
 * empty, or a copy cutover made itself (which it may replace), or already follows the source.
 */
export async function checkGuardrails(
  source: SyncSide,
  follower: SyncSide,
  schema: string,
  followsAlready: boolean,
): Promise<GuardrailVerdict> {
  const problems: string[] = [];
  const notes: string[] = [];
  const [s, f] = await Promise.all([serverFacts(source.client), serverFacts(follower.client)]);
  for (const [side, facts] of [
    [source, s],
    [follower, f],
  ] as const) {
    if (facts.walLevel !== "logical")
      problems.push(
        `wal_level is ${facts.walLevel} on ${side.name} (${side.where}); logical replication needs wal_level = logical: run ALTER SYSTEM SET wal_level = logical; on that server and restart it`,
      );
    if (!facts.superuser)
      problems.push(
        `the user of ${side.name} (${side.where}) is not a superuser; PostgreSQL 15 lets only a superuser (rds_superuser on Amazon RDS) create subscriptions and replication slots: connect as one (e.g. postgres) or grant SUPERUSER`,
      );
    // A subscription's slot, and one for each table copied at once by its initial copy.
    const needed = 1 + facts.syncWorkers;
    if (facts.freeSlots < needed)
      problems.push(
        `${side.name} (${side.where}) has ${facts.freeSlots} free replication slot(s) (max_replication_slots = ${facts.maxSlots}) and the sync needs ${needed} (one, and one per table copied at once: max_sync_workers_per_subscription = ${facts.syncWorkers}): raise max_replication_slots and restart, or drop an unused slot`,
      );
  }
  if (s.identity === f.identity)
    problems.push(
      `database.url and database.green.url name the same database (${source.where}); give green a database of its own`,
    );
  problems.push(...(await tableProblems(source, schema)));
  const largeObjects = await count(source.client, "SELECT count(*) FROM pg_largeobject_metadata");
  if (largeObjects > 0)
    problems.push(
      `${source.name} holds ${largeObjects} large object(s) (pg_largeobject), which logical replication does not copy: move them to bytea columns first`,
    );
  for (const view of await relations(source.client, schema, "relkind = 'm'"))
    notes.push(
      `materialized view ${schema}.${view} is not replicated: refresh it on the new colour's database`,
    );
  for (const table of await relations(source.client, schema, "relkind = 'f'"))
    notes.push(`foreign table ${schema}.${table} is not replicated`);
  if (!followsAlready) {
    const filled = await nonEmptyTables(follower.client, schema);
    if (filled.length > 0 && !follower.replica)
      problems.push(
        `${follower.name} (${follower.where}) already has rows in ${filled.map((t) => `${schema}.${t}`).join(", ")}; cutover copies ${source.name} into an empty database: point it at a new database, or empty those tables`,
      );
    else if (filled.length > 0)
      notes.push(
        `${follower.name} is a copy cutover made earlier and no longer follows ${source.name}: its ${filled.length} table(s) are emptied and copied again`,
      );
  }
  return { problems, notes };
}

/**
 * Tables logical replication cannot keep: no primary key or replica identity (their updates and deletes
 * would fail once published), or UNLOGGED (never copied). Checked before anything is made, and again after
 * the deploy's migrations (which may add such a table).
 */
export async function tableProblems(side: SyncSide, schema: string): Promise<string[]> {
  const problems: string[] = [];
  const table = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
  for (const name of await tablesWithoutIdentity(side.client, schema))
    problems.push(
      `table ${schema}.${name} on ${side.name} has no primary key or replica identity, so its updates and deletes cannot be replicated: ALTER TABLE ${table(name)} ADD PRIMARY KEY (...); or, without a unique key, ALTER TABLE ${table(name)} REPLICA IDENTITY FULL; (a table with json columns needs a unique index and REPLICA IDENTITY USING INDEX)`,
    );
  for (const name of await relations(side.client, schema, "relpersistence = 'u'"))
    problems.push(
      `table ${schema}.${name} on ${side.name} is UNLOGGED, and logical replication does not copy unlogged tables: ALTER TABLE ${table(name)} SET LOGGED;`,
    );
  return problems;
}

interface ServerFacts {
  readonly walLevel: string;
  readonly superuser: boolean;
  readonly maxSlots: number;
  readonly freeSlots: number;
  readonly syncWorkers: number;
  /** The cluster's system identifier and the database's name: equal only for one database. */
  readonly identity: string;
}

async function serverFacts(client: SqlClient): Promise<ServerFacts> {
  const { rows } = await client.query<{
    wal_level: string;
    superuser: boolean;
    max_slots: string;
    used_slots: string;
    sync_workers: string;
    identity: string;
  }>(`SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
              OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser') AND pg_has_role('rds_superuser', 'MEMBER')) AS superuser,
            current_setting('max_replication_slots') AS max_slots,
            (SELECT count(*) FROM pg_replication_slots) AS used_slots,
            current_setting('max_sync_workers_per_subscription') AS sync_workers,
            concat_ws('/', (SELECT system_identifier FROM pg_control_system()), inet_server_addr(), inet_server_port(), current_database()) AS identity`);
  const row = rows[0] as (typeof rows)[number];
  const maxSlots = Number(row.max_slots);
  return {
    walLevel: row.wal_level,
    superuser: row.superuser,
    maxSlots,
    freeSlots: maxSlots - Number(row.used_slots),
    syncWorkers: Number(row.sync_workers),
    identity: row.identity,
  };
}

/** Tables whose replica identity is their (missing) primary key, or NOTHING. */
async function tablesWithoutIdentity(client: SqlClient, schema: string): Promise<string[]> {
  return relations(
    client,
    schema,
    `relkind IN ('r', 'p') AND relpersistence = 'p' AND (relreplident = 'n' OR (relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))`,
  );
}

async function relations(client: SqlClient, schema: string, where: string): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND ${where} ORDER BY c.relname`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

/** The schema's tables (logged ones: what is published). */
export function schemaTables(client: SqlClient, schema: string): Promise<string[]> {
  return relations(client, schema, "relkind IN ('r', 'p') AND relpersistence = 'p'");
}

/** The schema's tables with at least one row. */
export async function nonEmptyTables(client: SqlClient, schema: string): Promise<string[]> {
  const filled: string[] = [];
  for (const table of await relations(client, schema, "relkind IN ('r', 'p') AND relpersistence = 'p'")) {
    const { rows } = await client.query(`SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(table)} LIMIT 1`);
    if (rows.length > 0) filled.push(table);
  }
  return filled;
}

/** The schema's tables and their columns (name and type), to compare both sides. */
export async function tableColumns(client: SqlClient, schema: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ relname: string; columns: string }>(
    `SELECT c.relname, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attname) AS columns
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
     GROUP BY c.relname`,
    [schema],
  );
  return new Map(rows.map((r) => [r.relname, r.columns]));
}

async function count(client: SqlClient, sql: string): Promise<number> {
  const { rows } = await client.query<{ count: string }>(sql);
  return Number(rows[0]?.count ?? 0);
}

/** The tables and columns must be the same on both sides, or rows cannot be applied (DDL is not replicated). */
export async function tableDifferences(
  source: SyncSide,
  follower: SyncSide,
  schema: string,
): Promise<string[]> {
  const [s, f] = await Promise.all([
    tableColumns(source.client, schema),
    tableColumns(follower.client, schema),
  ]);
  const problems: string[] = [];
  for (const [table, columns] of s) {
    const theirs = f.get(table);
    if (theirs === undefined)
      problems.push(
        `table ${schema}.${table} is on ${source.name} but not on ${follower.name}: create it with a migration (cutover runs the migrations on both databases; tables made outside them are not copied)`,
      );
    else if (theirs !== columns)
      problems.push(
        `table ${schema}.${table} differs: ${source.name} has (${columns}), ${follower.name} has (${theirs}); make them equal with a migration`,
      );
  }
  return problems;
}

/** The first problem on the first line (a deploy's history shows that one), every one below it. */
export function guardrailError(
  problems: readonly string[],
  lead = "database.sync: logical cannot start, nothing was created",
): CutoverError {
  const more = problems.length > 1 ? `\n${problems.map((p) => `  - ${p}`).join("\n")}` : "";
  return new CutoverError("SYNC_GUARDRAIL", `${lead}: ${problems[0]}${more}`);
}
