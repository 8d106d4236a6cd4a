import { SERVICE_VERSIONS_TABLE } from "./history-table.js";
import type { SqlClient } from "./sql-client.js";

/**
 * The schema version a service version first started at, recorded the first time it starts. A colour
 * connects with the versioned schema of that version, so a rollback to an older version that is started
 * again finds the old names as long as contract has not run.
 */
export async function recordServiceVersion(
  client: SqlClient,
  serviceVersion: string,
  current: string | null,
): Promise<string | null> {
  if (current === null) return null;
  await client.query(
    `INSERT INTO ${SERVICE_VERSIONS_TABLE} (version, schema_version) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING`,
    [serviceVersion, current],
  );
  const result = await client.query<{ schema_version: string }>(
    `SELECT schema_version FROM ${SERVICE_VERSIONS_TABLE} WHERE version = $1`,
    [serviceVersion],
  );
  return result.rows[0]?.schema_version ?? current;
}
