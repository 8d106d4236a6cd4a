import type { Logger } from "pino";
import { quoteIdent, type SqlClient } from "./sql-client.js";
import type { Segment } from "./transaction-segments.js";

/**
 * A CREATE INDEX CONCURRENTLY that stopped (lock_timeout, or its connection lost in an earlier run) leaves
 * an INVALID index behind, and running it again would fail with "already exists" (or, with IF NOT EXISTS,
 * keep the useless index). Drops that leftover, and nothing else, before each attempt. Only one runner
 * builds at a time (the migration lock), so an invalid index of that name is no other runner's build.
 */
export async function forgetInvalidIndex(client: SqlClient, segment: Segment, log: Logger): Promise<void> {
  const node = segment.statements[0]?.node;
  if (segment.transactional || !node || !("IndexStmt" in node)) return;
  const { idxname, concurrent, relation } = node.IndexStmt;
  if (!concurrent || !idxname) return;
  const name = relation?.schemaname
    ? `${quoteIdent(relation.schemaname)}.${quoteIdent(idxname)}`
    : quoteIdent(idxname);
  const found = await client.query<{ invalid: boolean }>(
    "SELECT NOT indisvalid AS invalid FROM pg_index WHERE indexrelid = to_regclass($1)",
    [name],
  );
  if (found.rows[0]?.invalid !== true) return;
  await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  log.info({ index: idxname }, "dropped the invalid index an unfinished CREATE INDEX CONCURRENTLY left");
}
