import type { Logger } from "pino";
import type { Rename } from "./rename-of.js";
import { quoteIdent, type SqlClient } from "./runner/sql-client.js";

/**
 * Renames without breaking the running version. A colour connects with search_path
 * "cutover_v<schema version when it started>, <base schema>". When an expand migration renames a table or
 * a column, cutover first creates, in the schema named for the version before the run, a view over the
 * table as it is (SELECT *, expanded to today's column names). PostgreSQL binds a view to the table and
 * its columns by identity, so after the rename the view still shows the old names; it is a single-table
 * view, so the old version writes through it too (auto-updatable). The new colour's search_path names a
 * schema that does not exist, so it sees the base schema. Contract drops the versioned schema.
 */
export const COMPAT_SCHEMA_PREFIX = "cutover_v";

/** PostgreSQL 15 has security_invoker views: the caller's privileges (and row security) apply. */
const SECURITY_INVOKER_SINCE = 150000;

/** The versioned schema that serves the shape of the database at `schemaVersion` ("0002"; null: none yet). */
export function compatSchemaName(schemaVersion: string | null): string {
  return `${COMPAT_SCHEMA_PREFIX}${schemaVersion ?? "0"}`;
}

/** The search_path a colour started at `schemaVersion` connects with. */
export function colourSearchPath(schemaVersion: string | null, baseSchema: string): string {
  return `${compatSchemaName(schemaVersion)},${baseSchema}`;
}

export interface KeepOldNameOptions {
  readonly compatSchema: string;
  readonly baseSchema: string;
  readonly serverVersionNum: number;
  readonly logger: Logger;
}

/**
 * Before `rename` runs (in the same transaction): makes sure the versioned schema has a view over the
 * table under its current name. Returns false when the table does not exist yet (made by this run).
 */
export async function keepOldName(
  client: SqlClient,
  rename: Rename,
  options: KeepOldNameOptions,
): Promise<boolean> {
  const base = `${quoteIdent(options.baseSchema)}.${quoteIdent(rename.table)}`;
  const view = `${quoteIdent(options.compatSchema)}.${quoteIdent(rename.table)}`;
  const found = await client.query<{ base_table: string | null; compat_view: string | null }>(
    "SELECT to_regclass($1)::text AS base_table, to_regclass($2)::text AS compat_view",
    [base, view],
  );
  const row = found.rows[0];
  if (!row?.base_table) return false;
  if (row.compat_view) return true;
  const invoker = options.serverVersionNum >= SECURITY_INVOKER_SINCE;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.compatSchema)}`);
  await client.query(
    `CREATE VIEW ${view}${invoker ? " WITH (security_invoker = true)" : ""} AS SELECT * FROM ${base}`,
  );
  if (invoker) {
    // The caller's own privileges on the table still apply (security_invoker), so this widens nothing.
    await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(options.compatSchema)} TO PUBLIC`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${view} TO PUBLIC`);
  }
  options.logger.info(
    { view: `${options.compatSchema}.${rename.table}`, rename: `${rename.from} -> ${rename.to}` },
    "old name kept for the running version through a view",
  );
  return true;
}

/** Drops a versioned schema and its views (contract, or `migrate down` of the migration that made it). */
export async function dropCompatSchema(client: SqlClient, schema: string, logger: Logger): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  logger.info({ schema }, "versioned schema of views dropped");
}
