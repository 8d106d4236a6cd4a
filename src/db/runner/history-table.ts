import { hostname, userInfo } from "node:os";
import type { Phase } from "../migration.js";
import type { SqlClient } from "./sql-client.js";

/** Where cutover keeps its records in the database. */
export const HISTORY_SCHEMA = "cutover";
export const HISTORY_TABLE = `${HISTORY_SCHEMA}.migrations`;
export const SERVICE_VERSIONS_TABLE = `${HISTORY_SCHEMA}.service_versions`;

/** One applied migration, as the history table records it. */
export interface AppliedMigration {
  readonly version: string;
  readonly name: string;
  readonly phase: Phase;
  readonly checksum: string;
  readonly appliedBy: string;
  readonly appliedAt: string;
  readonly durationMs: number;
  /** False when it had statements that cannot run in a transaction (CONCURRENTLY), run alone. */
  readonly transactional: boolean;
  /** The versioned schema of views it created for renames, while it still exists. */
  readonly compatSchema: string | null;
}

const CREATE = [
  `CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
    version text PRIMARY KEY,
    name text NOT NULL,
    phase text NOT NULL CHECK (phase IN ('expand', 'contract')),
    checksum text NOT NULL,
    applied_by text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL,
    transactional boolean NOT NULL,
    compat_schema text
  )`,
  `CREATE TABLE IF NOT EXISTS ${SERVICE_VERSIONS_TABLE} (
    version text PRIMARY KEY,
    schema_version text NOT NULL,
    first_started_at timestamptz NOT NULL DEFAULT now()
  )`,
];

/** Creates the history tables when they are missing (with the migration lock held). */
export async function ensureHistoryTables(client: SqlClient): Promise<void> {
  for (const statement of CREATE) await client.query(statement);
}

/** True when the history table exists; a dry run must not create it. */
export async function historyExists(client: SqlClient): Promise<boolean> {
  const result = await client.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [
    HISTORY_TABLE,
  ]);
  return result.rows[0]?.exists === true;
}

/** Applied migrations in version order; none when the table does not exist yet. */
export async function readHistory(client: SqlClient): Promise<AppliedMigration[]> {
  if (!(await historyExists(client))) return [];
  const result = await client.query<{
    version: string;
    name: string;
    phase: Phase;
    checksum: string;
    applied_by: string;
    applied_at: Date;
    duration_ms: number;
    transactional: boolean;
    compat_schema: string | null;
  }>(`SELECT * FROM ${HISTORY_TABLE} ORDER BY version::numeric`);
  return result.rows.map((row) => ({
    version: row.version,
    name: row.name,
    phase: row.phase,
    checksum: row.checksum,
    appliedBy: row.applied_by,
    appliedAt: new Date(row.applied_at).toISOString(),
    durationMs: row.duration_ms,
    transactional: row.transactional,
    compatSchema: row.compat_schema,
  }));
}

export interface NewHistoryRow {
  readonly version: string;
  readonly name: string;
  readonly phase: Phase;
  readonly checksum: string;
  readonly durationMs: number;
  readonly transactional: boolean;
  readonly compatSchema: string | null;
}

export async function recordApplied(client: SqlClient, row: NewHistoryRow): Promise<void> {
  await client.query(
    `INSERT INTO ${HISTORY_TABLE} (version, name, phase, checksum, applied_by, duration_ms, transactional, compat_schema)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      row.version,
      row.name,
      row.phase,
      row.checksum,
      whoApplies(),
      Math.round(row.durationMs),
      row.transactional,
      row.compatSchema,
    ],
  );
}

export async function deleteApplied(client: SqlClient, version: string): Promise<void> {
  await client.query(`DELETE FROM ${HISTORY_TABLE} WHERE version = $1`, [version]);
}

export async function forgetCompatSchema(client: SqlClient, schema: string): Promise<void> {
  await client.query(`UPDATE ${HISTORY_TABLE} SET compat_schema = NULL WHERE compat_schema = $1`, [schema]);
}

/** "alice@build-7", for the history's applied_by. */
export function whoApplies(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No user entry (some containers): keep "unknown".
  }
  return `${user}@${hostname()}`;
}
