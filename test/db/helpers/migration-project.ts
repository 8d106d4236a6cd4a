/** A folder of migration files and a runner over it, for tests. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Logger, pino } from "pino";
import { MigrationRunner, type RunnerSettings } from "../../../src/db/runner/migration-runner.js";

export interface MigrationFolder {
  readonly dir: string;
  write(name: string, content: string): void;
  remove(): void;
}

export function migrationFolder(files: Readonly<Record<string, string>> = {}): MigrationFolder {
  const dir = mkdtempSync(join(tmpdir(), "cutover-test-migrations-"));
  const folder: MigrationFolder = {
    dir,
    write: (name, content) => writeFileSync(join(dir, name), content),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [name, content] of Object.entries(files)) folder.write(name, content);
  return folder;
}

export const testSettings = (folder: string, overrides: Partial<RunnerSettings> = {}): RunnerSettings => ({
  folder,
  baseSchema: "public",
  lockTimeoutMs: 1_000,
  statementTimeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 50,
  lock: { whenBusy: "wait", waitTimeoutMs: 10_000, pollIntervalMs: 50 },
  ...overrides,
});

export function runnerFor(
  url: string,
  folder: string,
  overrides: Partial<RunnerSettings> = {},
  logger: Logger = pino({ level: "silent" }),
): MigrationRunner {
  return new MigrationRunner({ ...testSettings(folder, overrides), url, logger });
}

/** Runs one query on a connection of its own. */
export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Everything about the schema a migration can change, as comparable text: schemas, relations, columns
 * (type, null, default), constraints, indexes, views, enum values, and the history rows.
 */
export async function schemaSnapshot(url: string): Promise<string[]> {
  const user =
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'";
  const lines = await query<{ line: string }>(
    url,
    `
    SELECT 'schema ' || n.nspname AS line FROM pg_namespace n WHERE ${user}
    UNION ALL
    SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${user}
    UNION ALL
    SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE ${user} AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint ' || n.nspname || '.' || co.conname || ' ' || pg_get_constraintdef(co.oid) || CASE WHEN co.convalidated THEN '' ELSE ' (not valid)' END FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE ${user}
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${user}
    UNION ALL
    SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${user} AND c.relkind = 'v'
    UNION ALL
    SELECT 'enum ' || t.typname || ' ' || e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  `,
  );
  const history = await query<{ line: string }>(
    url,
    "SELECT CASE WHEN to_regclass('cutover.migrations') IS NULL THEN NULL ELSE 'history' END AS line",
  );
  const rows = history[0]?.line
    ? await query<{ line: string }>(
        url,
        "SELECT 'applied ' || version || ' ' || checksum AS line FROM cutover.migrations",
      )
    : [];
  return [...lines, ...rows].map((row) => row.line).sort();
}
