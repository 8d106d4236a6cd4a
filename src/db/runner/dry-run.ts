import type { Logger } from "pino";
import type { Migration, Phase } from "../migration.js";
import { parseSql } from "../pg-parser.js";
import { isServedByViews, renameOf } from "../rename-of.js";
import { keepOldName } from "../versioned-views.js";
import { type SqlClient, sqlStateOf } from "./sql-client.js";
import { mustRunAlone } from "./transaction-segments.js";

/** A lock a statement took, and what it holds up while it is held. */
export interface TakenLock {
  readonly relation: string;
  readonly mode: string;
  readonly blocks: string;
}

export interface DryRunStatement {
  readonly line: number;
  readonly sql: string;
  /** null when it was not run. */
  readonly durationMs: number | null;
  readonly rows: number | null;
  readonly locks: readonly TakenLock[];
  /** Why it was not run (cannot run in a transaction, or an earlier statement failed). */
  readonly skipped: string | null;
  readonly error: string | null;
}

export interface DryRunMigration {
  readonly id: string;
  readonly phase: Phase;
  readonly statements: readonly DryRunStatement[];
}

export interface DryRunReport {
  readonly migrations: readonly DryRunMigration[];
  /** The first error, if a statement failed (the migration would fail for real too). */
  readonly error: string | null;
}

export interface DryRunOptions {
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly serverVersionNum: number;
  readonly baseSchema: string;
  readonly compatSchema: string | null;
  readonly logger: Logger;
}

const BLOCKS: Readonly<Record<string, string>> = {
  AccessExclusiveLock: "blocks reads and writes",
  ExclusiveLock: "blocks writes",
  ShareRowExclusiveLock: "blocks writes",
  ShareLock: "blocks writes",
  ShareUpdateExclusiveLock: "blocks other schema changes and VACUUM",
  RowExclusiveLock: "blocks schema changes",
  RowShareLock: "blocks schema changes",
  AccessShareLock: "blocks ACCESS EXCLUSIVE only",
};

const LOCKS_QUERY = `
  SELECT c.oid::regclass::text AS relation, l.mode
    FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`;

/**
 * Runs `migrations` in one transaction and rolls it back, timing each statement and listing the locks it
 * took (read from pg_locks inside the transaction). Nothing is recorded and nothing stays.
 */
export async function dryRun(
  client: SqlClient,
  migrations: readonly Migration[],
  options: DryRunOptions,
): Promise<DryRunReport> {
  const held = new Set<string>();
  const report: DryRunMigration[] = [];
  let error: string | null = null;
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.round(options.lockTimeoutMs)}`);
    await client.query(`SET LOCAL statement_timeout = ${Math.round(options.statementTimeoutMs)}`);
    for (const migration of migrations) {
      const statements: DryRunStatement[] = [];
      for (const statement of parseSql(migration.up.sql, migration.up.line - 1).statements) {
        const base = { line: statement.line, sql: statement.sql, locks: [], error: null };
        if (error !== null) {
          statements.push({
            ...base,
            durationMs: null,
            rows: null,
            skipped: "not run: an earlier statement failed",
          });
        } else if (mustRunAlone(statement.node, options.serverVersionNum)) {
          const skipped = "not dry-runnable: cannot run inside a transaction (it runs alone for real)";
          statements.push({ ...base, durationMs: null, rows: null, skipped });
        } else {
          const ran = await runOne(client, migration, statement, options, held);
          if (ran.error !== null) error = `${migration.id} line ${statement.line}: ${ran.error}`;
          statements.push(ran);
        }
      }
      report.push({ id: migration.id, phase: migration.phase, statements });
    }
  } finally {
    await client.query("ROLLBACK");
    options.logger.info({ migrations: migrations.length, error }, "dry run rolled back");
  }
  return { migrations: report, error };
}

async function runOne(
  client: SqlClient,
  migration: Migration,
  statement: { node: Parameters<typeof renameOf>[0]; sql: string; line: number },
  options: DryRunOptions,
  held: Set<string>,
): Promise<DryRunStatement> {
  const started = performance.now();
  await client.query("SAVEPOINT cutover_dry_run");
  try {
    const rename = renameOf(statement.node);
    if (
      rename &&
      migration.phase === "expand" &&
      options.compatSchema &&
      isServedByViews(rename, options.baseSchema)
    ) {
      await keepOldName(client, rename, { ...options, compatSchema: options.compatSchema });
    }
    const result = await client.query(statement.sql);
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const locks = await newLocks(client, held);
    options.logger.info(
      { migration: migration.id, line: statement.line, durationMs, locks },
      "dry run statement",
    );
    return {
      line: statement.line,
      sql: statement.sql,
      durationMs,
      rows: result.rowCount ?? 0,
      locks,
      skipped: null,
      error: null,
    };
  } catch (failure) {
    await client.query("ROLLBACK TO SAVEPOINT cutover_dry_run");
    const state = sqlStateOf(failure);
    const message = `${(failure as Error).message}${state ? ` (SQLSTATE ${state})` : ""}`;
    return {
      line: statement.line,
      sql: statement.sql,
      durationMs: null,
      rows: null,
      locks: [],
      skipped: null,
      error: message,
    };
  }
}

async function newLocks(client: SqlClient, held: Set<string>): Promise<TakenLock[]> {
  const result = await client.query<{ relation: string; mode: string }>(LOCKS_QUERY);
  const fresh: TakenLock[] = [];
  for (const row of result.rows) {
    const key = `${row.relation} ${row.mode}`;
    if (held.has(key)) continue;
    held.add(key);
    fresh.push({ relation: row.relation, mode: row.mode, blocks: BLOCKS[row.mode] ?? "" });
  }
  return fresh;
}
