import type { Logger } from "pino";
import type { LockBusyMode } from "../../config/database-schema.js";
import { CutoverError } from "../../errors.js";
import { blockingFindings, type Finding, type LintReport, lintMigrations } from "../lint/lint-migration.js";
import { UnsafeMigrationError } from "../lint/unsafe-migration-error.js";
import { compareVersions, type Migration } from "../migration.js";
import { AppliedFileMissingError, NoDownPartError } from "../migration-errors.js";
import { readMigrations } from "../read-migrations.js";
import { compatSchemaName } from "../versioned-views.js";
import { type AppliedResult, applyMigration } from "./apply-migration.js";
import { dropCompatSchemas } from "./drop-compat-schemas.js";
import { type DryRunReport, dryRun } from "./dry-run.js";
import { type AppliedMigration, ensureHistoryTables, readHistory, whoApplies } from "./history-table.js";
import { type HeldLock, takeMigrationLock } from "./migration-lock.js";
import { assertRunnable, type MigrationEntry, migrationStates, schemaVersionOf } from "./migration-states.js";
import { recordServiceVersion } from "./service-versions.js";
import { connect, type SqlClient } from "./sql-client.js";

/** How migrations run: from database.* in cutover.yaml. */
export interface RunnerSettings {
  readonly folder: string;
  readonly baseSchema: string;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly lock: {
    readonly whenBusy: LockBusyMode;
    readonly waitTimeoutMs: number;
    readonly pollIntervalMs: number;
  };
}

export interface MigrationRunnerOptions extends RunnerSettings {
  readonly url: string;
  readonly logger: Logger;
}

export interface MigrationStatus {
  /** The highest applied version, or null. */
  readonly schemaVersion: string | null;
  readonly serverVersion: string;
  readonly entries: readonly MigrationEntry[];
}

export interface MigrationPlan {
  readonly schemaVersion: string | null;
  /** What a deploy's expand step (and `migrate up`) would run now, in order. */
  readonly expand: readonly Migration[];
  /** What waits for the contract step (after the old colour has stopped). */
  readonly contract: readonly Migration[];
  readonly lint: readonly LintReport[];
  /** What would stop a run (an edited or missing applied file, a new file out of order). */
  readonly problem: string | null;
}

export interface RunResult {
  readonly applied: readonly AppliedResult[];
  readonly schemaVersion: string | null;
  readonly lockWaitedMs: number;
  /** Warnings of the migrations that ran (errors refuse the run). */
  readonly warnings: readonly Finding[];
  /** Contract: the versioned schemas of views it dropped. */
  readonly droppedSchemas: readonly string[];
}

interface Session {
  readonly client: SqlClient;
  readonly serverVersionNum: number;
}

/** Applies, checks and rolls back migrations against one database. Each call uses a connection of its own. */
export class MigrationRunner {
  readonly #o: MigrationRunnerOptions;
  readonly #log: Logger;

  constructor(options: MigrationRunnerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "migrator" });
  }

  async status(): Promise<MigrationStatus> {
    const files = await readMigrations(this.#o.folder);
    return this.#session(async ({ client }) => {
      const applied = await readHistory(client);
      const serverVersion = String(
        (await client.query("SHOW server_version")).rows[0]?.server_version ?? "?",
      );
      return {
        schemaVersion: schemaVersionOf(applied),
        serverVersion,
        entries: migrationStates(files, applied),
      };
    });
  }

  async plan(): Promise<MigrationPlan> {
    const files = await readMigrations(this.#o.folder);
    return this.#session(async ({ client, serverVersionNum }) => {
      const applied = await readHistory(client);
      const entries = migrationStates(files, applied);
      let problem: string | null = null;
      try {
        assertRunnable(entries, this.#o.folder);
      } catch (error) {
        problem = (error as Error).message;
      }
      const expand = pendingOf(entries, false);
      const contract = entries.flatMap((e) => (e.state === "held" && e.migration ? [e.migration] : []));
      const lint = await this.#lint(files, [...expand, ...contract], serverVersionNum);
      return { schemaVersion: schemaVersionOf(applied), expand, contract, lint, problem };
    });
  }

  /** Applies pending expand migrations (and held contract ones with `contract`), refusing unsafe ones. */
  async up(options: { contract?: boolean; signal?: AbortSignal } = {}): Promise<RunResult> {
    const files = await readMigrations(this.#o.folder);
    return this.#session(async (session) => {
      const before = migrationStates(files, await readHistory(session.client));
      assertRunnable(before, this.#o.folder);
      const warnings = await this.#refuseUnsafe(
        files,
        pendingOf(before, options.contract),
        session.serverVersionNum,
      );
      return this.#locked(session.client, options.signal, async (lock) => {
        await ensureHistoryTables(session.client);
        const applied = await readHistory(session.client);
        const entries = migrationStates(files, applied);
        assertRunnable(entries, this.#o.folder);
        const results = await this.#applyAll(
          session,
          pendingOf(entries, options.contract),
          applied,
          options.signal,
        );
        const schemaVersion = schemaVersionOf(await readHistory(session.client));
        return { applied: results, schemaVersion, lockWaitedMs: lock.waitedMs, warnings, droppedSchemas: [] };
      });
    });
  }

  /** Runs pending migrations in a transaction that is rolled back; reports durations and locks. */
  async dryRun(
    options: { contract?: boolean } = {},
  ): Promise<DryRunReport & { readonly lint: readonly LintReport[] }> {
    const files = await readMigrations(this.#o.folder);
    return this.#session(async (session) =>
      this.#locked(session.client, undefined, async () => {
        const applied = await readHistory(session.client);
        const entries = migrationStates(files, applied);
        assertRunnable(entries, this.#o.folder);
        const pending = pendingOf(entries, options.contract);
        const lint = await this.#lint(files, pending, session.serverVersionNum);
        const report = await dryRun(session.client, pending, {
          ...this.#o,
          serverVersionNum: session.serverVersionNum,
          compatSchema: compatSchemaName(schemaVersionOf(applied)),
          logger: this.#log,
        });
        return { ...report, lint };
      }),
    );
  }

  /** Drops the versioned schemas of views no colour needs any more, then runs held contract migrations. */
  async contract(options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    const files = await readMigrations(this.#o.folder);
    return this.#session(async (session) => {
      const held = (entries: readonly MigrationEntry[]) =>
        entries.flatMap((e) => (e.state === "held" && e.migration ? [e.migration] : []));
      const before = migrationStates(files, await readHistory(session.client));
      assertRunnable(before, this.#o.folder);
      refuseWithPendingExpand(before);
      const warnings = await this.#refuseUnsafe(files, held(before), session.serverVersionNum);
      return this.#locked(session.client, options.signal, async (lock) => {
        await ensureHistoryTables(session.client);
        const applied = await readHistory(session.client);
        // The views go first: a contract migration may drop what they select from.
        const droppedSchemas = await dropCompatSchemas(session.client, applied, {
          ...this.#o,
          logger: this.#log,
          signal: options.signal,
        });
        const entries = migrationStates(files, applied);
        const results = await this.#applyAll(session, held(entries), applied, options.signal);
        const schemaVersion = schemaVersionOf(await readHistory(session.client));
        return { applied: results, schemaVersion, lockWaitedMs: lock.waitedMs, warnings, droppedSchemas };
      });
    });
  }

  /** Rolls back applied migrations above `to` (default: the last one) with their down parts, newest first. */
  async down(options: { to?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
    const files = await readMigrations(this.#o.folder);
    const byVersion = new Map(files.map((m) => [Number(m.version), m]));
    return this.#session(async (session) =>
      this.#locked(session.client, options.signal, async (lock) => {
        const applied = await readHistory(session.client);
        const last = applied.at(-1);
        const to = options.to ?? applied.at(-2)?.version ?? "0";
        const undo = last ? applied.filter((row) => compareVersions(row.version, to) > 0).reverse() : [];
        const plan = undo.map((row) => {
          const migration = byVersion.get(Number(row.version));
          if (!migration) throw new AppliedFileMissingError(`${row.version}_${row.name}`, this.#o.folder);
          if (!migration.down) throw new NoDownPartError(migration.id);
          return { migration, row };
        });
        const results: AppliedResult[] = [];
        for (const { migration, row } of plan) {
          results.push(
            await applyMigration(
              migration,
              "down",
              this.#applyOptions(session, null, options.signal),
              row.compatSchema,
            ),
          );
        }
        const schemaVersion = schemaVersionOf(await readHistory(session.client));
        return {
          applied: results,
          schemaVersion,
          lockWaitedMs: lock.waitedMs,
          warnings: [],
          droppedSchemas: [],
        };
      }),
    );
  }

  async schemaVersion(): Promise<string | null> {
    return this.#session(async ({ client }) => schemaVersionOf(await readHistory(client)));
  }

  /** Migrations and history side by side, for the schema range checks. */
  async entries(): Promise<MigrationEntry[]> {
    const files = await readMigrations(this.#o.folder);
    return this.#session(async ({ client }) => migrationStates(files, await readHistory(client)));
  }

  /** The schema version a service version connects at: the one it first started at, else today's. */
  async serviceSchemaVersion(serviceVersion: string): Promise<string | null> {
    return this.#session(async ({ client }) =>
      this.#locked(client, undefined, async () => {
        await ensureHistoryTables(client);
        return recordServiceVersion(client, serviceVersion, schemaVersionOf(await readHistory(client)));
      }),
    );
  }

  async #applyAll(
    session: Session,
    pending: readonly Migration[],
    applied: readonly AppliedMigration[],
    signal?: AbortSignal,
  ): Promise<AppliedResult[]> {
    const compat = compatSchemaName(schemaVersionOf(applied));
    const results: AppliedResult[] = [];
    for (const migration of pending) {
      signal?.throwIfAborted();
      const compatSchema = migration.phase === "expand" ? compat : null;
      results.push(await applyMigration(migration, "up", this.#applyOptions(session, compatSchema, signal)));
    }
    return results;
  }

  #applyOptions(session: Session, compatSchema: string | null, signal?: AbortSignal) {
    return {
      ...this.#o,
      client: session.client,
      logger: this.#log,
      serverVersionNum: session.serverVersionNum,
      compatSchema,
      signal,
    };
  }

  /** Lints every file in order (what one teaches counts for the next); reports those in `which`. */
  async #lint(
    files: readonly Migration[],
    which: readonly Migration[],
    serverVersionNum: number,
  ): Promise<LintReport[]> {
    const ids = new Set(which.map((m) => m.id));
    const reports = await lintMigrations(files, {
      lockTimeoutMs: this.#o.lockTimeoutMs,
      serverVersionNum,
      baseSchema: this.#o.baseSchema,
    });
    return reports.filter((report) => report.migration !== null && ids.has(report.migration));
  }

  async #refuseUnsafe(files: readonly Migration[], pending: readonly Migration[], serverVersionNum: number) {
    const reports = await this.#lint(files, pending, serverVersionNum);
    const blocking = blockingFindings(reports);
    if (blocking.length > 0) {
      this.#log.warn(
        { findings: blocking.map((f) => `${f.migration} ${f.rule}`) },
        "refused: unsafe migration",
      );
      throw new UnsafeMigrationError(blocking);
    }
    return reports.flatMap((report) => report.findings.filter((f) => f.suppressed === null));
  }

  async #session<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const client = await connect(this.#o.url, {
      applicationName: `cutover migrate (${whoApplies()}, pid ${process.pid})`,
      searchPath: this.#o.baseSchema,
    });
    try {
      const version = await client.query<{ server_version_num: string }>("SHOW server_version_num");
      const serverVersionNum = Number(version.rows[0]?.server_version_num ?? 0);
      await stopWithClient(client, serverVersionNum);
      return await work({ client, serverVersionNum });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async #locked<T>(
    client: SqlClient,
    signal: AbortSignal | undefined,
    work: (lock: HeldLock) => Promise<T>,
  ): Promise<T> {
    const lock = await takeMigrationLock(client, {
      whenBusy: this.#o.lock.whenBusy,
      waitTimeoutMs: this.#o.lock.waitTimeoutMs,
      pollIntervalMs: this.#o.lock.pollIntervalMs,
      signal,
      logger: this.#log,
    });
    try {
      return await work(lock);
    } finally {
      await lock
        .release()
        .catch((error: unknown) => this.#log.warn({ err: (error as Error).message }, "lock release failed"));
    }
  }
}

/**
 * A server goes on running a statement whose client is gone until it next talks to it: a CREATE INDEX
 * CONCURRENTLY waiting for writers could run (and hold the migration lock) for as long as they last, and
 * then finish unrecorded. From PostgreSQL 14 the server can check the connection while it works (1 s
 * here); that sees a connection the other side closed or reset. Keepalives (10 s idle, then 3 probes 5 s
 * apart) see one that went silent. A server that has no such setting (some builds) goes without.
 */
async function stopWithClient(client: SqlClient, serverVersionNum: number): Promise<void> {
  const settings = ["tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5", "tcp_keepalives_count = 3"];
  if (serverVersionNum >= 140000) settings.push("client_connection_check_interval = 1000");
  for (const setting of settings) await client.query(`SET ${setting}`).catch(() => undefined);
}

function pendingOf(entries: readonly MigrationEntry[], withContract = false): Migration[] {
  return entries.flatMap((e) =>
    (e.state === "pending" || (withContract && e.state === "held")) && e.migration ? [e.migration] : [],
  );
}

function refuseWithPendingExpand(entries: readonly MigrationEntry[]): void {
  const pending = entries.filter((e) => e.state === "pending");
  if (pending.length === 0) return;
  throw new CutoverError(
    "EXPAND_PENDING",
    `expand migration(s) ${pending.map((e) => e.id).join(", ")} are not applied yet; run \`cutover migrate up\` (or deploy) first, then contract`,
  );
}
