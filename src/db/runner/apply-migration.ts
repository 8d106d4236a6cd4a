import type { Logger } from "pino";
import type { Migration } from "../migration.js";
import { MigrationFailedError, NoDownPartError } from "../migration-errors.js";
import { parseSql, type Statement } from "../pg-parser.js";
import { isServedByViews, renameOf } from "../rename-of.js";
import { dropCompatSchema, keepOldName } from "../versioned-views.js";
import { deleteApplied, recordApplied } from "./history-table.js";
import { forgetInvalidIndex } from "./invalid-index.js";
import { LOCK_NOT_AVAILABLE, retryOnLockTimeout } from "./retry-on-lock-timeout.js";
import { type SqlClient, sqlStateOf } from "./sql-client.js";
import { type Segment, transactionSegments } from "./transaction-segments.js";

export interface ApplyOptions {
  readonly client: SqlClient;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly serverVersionNum: number;
  readonly baseSchema: string;
  /** Up: the versioned schema that keeps old names for renames (expand only), or null. */
  readonly compatSchema: string | null;
  /** Passed on from the runner's caller; undefined (or absent): nothing aborts it. */
  readonly signal?: AbortSignal | undefined;
}

export interface AppliedResult {
  readonly id: string;
  readonly direction: "up" | "down";
  readonly durationMs: number;
  readonly statements: number;
  readonly retries: number;
  readonly transactional: boolean;
  /** Up: the versioned schema it made for renames, if any. */
  readonly compatSchema: string | null;
}

/**
 * Runs a migration's up part and records it, or its down part and forgets it. Each segment runs in its
 * own transaction with lock_timeout and statement_timeout set; a segment that gave up on lock_timeout is
 * rolled back and retried. A failure rolls its transaction back: the schema is as before that segment.
 */
export async function applyMigration(
  migration: Migration,
  direction: "up" | "down",
  options: ApplyOptions,
  /** Down: the versioned schema this migration made, dropped with it. */
  madeSchema: string | null = null,
): Promise<AppliedResult> {
  const part = direction === "up" ? migration.up : migration.down;
  if (!part) throw new NoDownPartError(migration.id);
  const log = options.logger.child({ migration: migration.id, direction });
  const statements = parseSql(part.sql, part.line - 1).statements;
  const segments = transactionSegments(statements, options.serverVersionNum);
  const started = performance.now();
  const state = { retries: 0, compatSchema: null as string | null, committed: 0 };
  log.info({ statements: statements.length, segments: segments.length }, "migration started");
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const finish = async () => {
      if (!last) return;
      if (direction === "down") return forget(migration, madeSchema, options, log);
      const durationMs = performance.now() - started;
      const transactional = segments.length === 1 && segment.transactional;
      await recordApplied(options.client, {
        ...migration,
        durationMs,
        transactional,
        compatSchema: state.compatSchema,
      });
    };
    try {
      await forgetInvalidIndex(options.client, segment, log);
      const outcome = await retryOnLockTimeout(
        () => runSegment(migration, segment, options, log, state, finish),
        {
          retries: options.retries,
          delayMs: options.retryDelayMs,
          logger: log,
          signal: options.signal,
          beforeRetry: () => forgetInvalidIndex(options.client, segment, log),
        },
      );
      state.retries += outcome.retries;
      state.committed += segment.statements.length;
    } catch (error) {
      throw failure(migration, error, options, state.committed, segment);
    }
  }
  const durationMs = Math.round(performance.now() - started);
  log.info(
    { durationMs, retries: state.retries },
    direction === "up" ? "migration applied" : "migration rolled back",
  );
  return {
    id: migration.id,
    direction,
    durationMs,
    statements: statements.length,
    retries: state.retries,
    transactional: segments.length === 1 && segments[0]?.transactional === true,
    compatSchema: state.compatSchema,
  };
}

async function runSegment(
  migration: Migration,
  segment: Segment,
  options: ApplyOptions,
  log: Logger,
  state: { compatSchema: string | null },
  finish: () => Promise<void>,
): Promise<void> {
  const { client } = options;
  const local = segment.transactional ? "LOCAL " : "";
  const before = state.compatSchema;
  if (segment.transactional) await client.query("BEGIN");
  try {
    await client.query(`SET ${local}lock_timeout = ${Math.round(options.lockTimeoutMs)}`);
    await client.query(`SET ${local}statement_timeout = ${Math.round(options.statementTimeoutMs)}`);
    for (const statement of segment.statements) {
      if (await keepOldNameFor(statement, migration, options)) state.compatSchema = options.compatSchema;
      await runStatement(client, statement, log);
    }
    await finish();
    if (segment.transactional) await client.query("COMMIT");
  } catch (error) {
    state.compatSchema = before;
    if (segment.transactional) {
      await client.query("ROLLBACK").catch(() => undefined);
      log.warn({ sqlState: sqlStateOf(error) }, "transaction rolled back");
    }
    throw error;
  } finally {
    if (!segment.transactional)
      await client.query("RESET lock_timeout; RESET statement_timeout").catch(() => undefined);
  }
}

async function keepOldNameFor(
  statement: Statement,
  migration: Migration,
  options: ApplyOptions,
): Promise<boolean> {
  const rename = renameOf(statement.node);
  if (!rename || migration.phase !== "expand" || options.compatSchema === null) return false;
  if (!isServedByViews(rename, options.baseSchema)) return false;
  return keepOldName(options.client, rename, {
    compatSchema: options.compatSchema,
    baseSchema: options.baseSchema,
    serverVersionNum: options.serverVersionNum,
    logger: options.logger,
  });
}

/** A statement that failed, with where it is in the file; keeps the server's SQLSTATE as `code`. */
class StatementFailure extends Error {
  readonly code: string | null;
  readonly line: number;
  constructor(cause: unknown, line: number) {
    super((cause as Error).message, { cause });
    this.code = sqlStateOf(cause);
    this.line = line;
  }
}

async function runStatement(client: SqlClient, statement: Statement, log: Logger): Promise<void> {
  const started = performance.now();
  let result: unknown;
  try {
    result = await client.query(statement.sql);
  } catch (error) {
    log.warn(
      { line: statement.line, sqlState: sqlStateOf(error), err: (error as Error).message },
      "statement failed",
    );
    throw new StatementFailure(error, statement.line);
  }
  const results = (Array.isArray(result) ? result : [result]) as { rowCount: number | null }[];
  log.info(
    {
      line: statement.line,
      statement: statement.sql.length > 200 ? `${statement.sql.slice(0, 199)}…` : statement.sql,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      rows: results.reduce((sum, r) => sum + (r.rowCount ?? 0), 0),
    },
    "statement",
  );
}

async function forget(migration: Migration, madeSchema: string | null, options: ApplyOptions, log: Logger) {
  await deleteApplied(options.client, migration.version);
  if (madeSchema) await dropCompatSchema(options.client, madeSchema, log);
}

function failure(
  migration: Migration,
  error: unknown,
  options: ApplyOptions,
  committed: number,
  segment: Segment,
): Error {
  if (error instanceof NoDownPartError || (error as Error).name === "AbortError") return error as Error;
  const sqlState = sqlStateOf(error);
  const message = (error as Error).message;
  const where = error instanceof StatementFailure ? ` at line ${error.line}` : "";
  const building =
    !segment.transactional && segment.statements[0]?.node && "IndexStmt" in segment.statements[0].node;
  let kept =
    committed > 0
      ? `${committed} statement(s) before it had been committed (the migration runs statements that cannot be in a transaction alone), so check the schema before running again`
      : "its transaction was rolled back, so the schema is as it was before it";
  if (!segment.transactional) {
    const before =
      committed > 0 ? `${committed} statement(s) before it had been committed, so check the schema; ` : "";
    kept = building
      ? `${before}the statement ran outside a transaction and may have left an invalid index, which the next run drops and builds again`
      : `${before}the statement ran outside a transaction (it cannot run in one), so check what it changed before running again`;
  }
  if (connectionLost(error, sqlState)) {
    return new MigrationFailedError(
      `${migration.id} was cut off${where}: the connection to the database was lost (${message}); ${kept}; run it again once the database answers`,
      sqlState,
      "DATABASE_CONNECTION_LOST",
    );
  }
  if (sqlState === LOCK_NOT_AVAILABLE) {
    return new MigrationFailedError(
      `${migration.id} could not get a lock within lock_timeout (${options.lockTimeoutMs}ms) in ${options.retries + 1} attempt(s): ` +
        `a long transaction holds a lock on a table it changes (see pg_stat_activity); ${kept}; run it again when that transaction has ended`,
      sqlState,
      "MIGRATION_LOCK_TIMEOUT",
    );
  }
  return new MigrationFailedError(
    `${migration.id} failed${where}: ${message}${sqlState ? ` (SQLSTATE ${sqlState})` : ""}; ${kept}; fix the migration and run again`,
    sqlState,
  );
}

/** The server went away (shut down, restarted) or the connection to it broke, rather than the SQL failing. */
function connectionLost(error: unknown, sqlState: string | null): boolean {
  if (sqlState) return sqlState.startsWith("08") || /^57P0[123]$/.test(sqlState);
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|Client was closed|not queryable/i.test(
    (error as Error).message,
  );
}
