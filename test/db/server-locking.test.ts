/**
 * Locking behaviour, which only a PostgreSQL server can show: PGlite is one session, so its clients are
 * serialised and nothing ever waits for a lock there.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { MigrationFailedError } from "../../src/db/migration-errors.js";
import type { ErrorCode } from "../../src/errors.js";
import { describeOnServer, postgresTarget, type TestDatabase } from "./helpers/databases.js";
import { migrationFolder, query, runnerFor, schemaSnapshot } from "./helpers/migration-project.js";
import { runMigrateCli, startMigrateCli } from "./helpers/run-migrate-cli.js";

const runCli = (config: string, ...args: string[]) =>
  runMigrateCli(process.cwd(), ["--config", config, ...args], { CUTOVER_LOG_LEVEL: "info" });

function project(url: string, migrations: Record<string, string>, lock = "{ pollInterval: 50ms }") {
  const dir = mkdtempSync(join(tmpdir(), "cutover-test-migrate-"));
  mkdirSync(join(dir, "migrations"));
  for (const [name, sql] of Object.entries(migrations)) writeFileSync(join(dir, "migrations", name), sql);
  const config = (file: string, advisoryLock: string) => {
    writeFileSync(
      join(dir, file),
      `service: locking\nversion: 1.0.0\nstart: { command: "true" }\ndatabase:\n  url: "${url}"\n  advisoryLock: ${advisoryLock}\n`,
    );
    return join(dir, file);
  };
  return {
    dir,
    wait: config("cutover.yaml", lock),
    failFast: config("fail-fast.yaml", "{ whenBusy: fail }"),
  };
}

const SLOW_MIGRATIONS = {
  "0001_log.sql":
    "-- cutover:phase expand\nCREATE TABLE applied_log (migration text NOT NULL);\nINSERT INTO applied_log VALUES ('0001');\nSELECT pg_sleep(0.4);\n",
  "0002_more.sql":
    "-- cutover:phase expand\nINSERT INTO applied_log VALUES ('0002');\nSELECT pg_sleep(0.3);\n",
  "0003_column.sql":
    "-- cutover:phase expand\nALTER TABLE applied_log ADD COLUMN note text;\nINSERT INTO applied_log VALUES ('0003');\n",
};

await describeOnServer("locking on the PostgreSQL server", () => {
  let database: TestDatabase;
  const cleanup: (() => void)[] = [];

  beforeEach(async () => {
    database = await postgresTarget.create();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0)) step();
    await database?.close();
  });

  it("two `migrate up` processes started at once apply each migration exactly once", async () => {
    const { dir, wait } = project(database.url, SLOW_MIGRATIONS);
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // Hold the lock until both processes are polling for it, so they really start at once.
    const holder = await holdMigrationLock(database.url);
    const started = [0, 1].map(() =>
      startMigrateCli(process.cwd(), ["--config", wait, "--json", "migrate", "up"], {
        CUTOVER_LOG_LEVEL: "info",
      }),
    );
    await eventually(() => started.every((run) => run.stderr().includes("waiting for the migration lock")));
    await holder.end();
    const runs = await Promise.all(started.map((run) => run.done));
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const results = runs.map(
      (r) => JSON.parse(r.stdout) as { applied: { id: string }[]; lockWaitedMs: number },
    );
    const applied = results.flatMap((r) => r.applied.map((a) => a.id)).sort();
    expect(applied).toEqual(["0001_log", "0002_more", "0003_column"]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 3]);
    const log = await query<{ migration: string }>(
      database.url,
      "SELECT migration FROM applied_log ORDER BY 1",
    );
    expect(log.map((row) => row.migration)).toEqual(["0001", "0002", "0003"]);
    const history = await query<{ version: string }>(
      database.url,
      "SELECT version FROM cutover.migrations ORDER BY 1",
    );
    expect(history.map((row) => row.version)).toEqual(["0001", "0002", "0003"]);
  });

  it("with whenBusy: fail, a second runner gives up at once and says who holds the lock", async () => {
    const { dir, failFast } = project(database.url, SLOW_MIGRATIONS);
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const holder = await holdMigrationLock(database.url);
    try {
      const second = await runCli(failFast, "migrate", "up");
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        /another migration runner holds the migration lock \(pid \d+, the test's runner\)/,
      );
    } finally {
      await holder.end();
    }
    expect(await query(database.url, "SELECT to_regclass('cutover.migrations') AS history")).toEqual([
      { history: null },
    ]);
  });

  it("gives up after lock_timeout and retries; a concurrent reader never waits longer than the timeout + 100 ms", async () => {
    const lockTimeoutMs = 300;
    await query(
      database.url,
      "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'x' FROM generate_series(1, 100) g",
    );
    const folder = migrationFolder({
      "0001_note.sql": "-- cutover:phase expand\nALTER TABLE items ADD COLUMN note text;\n",
    });
    cleanup.push(() => folder.remove());
    const retries: unknown[] = [];
    const logger = pino(
      { level: "info" },
      { write: (line: string) => void (line.includes("lock_timeout") && retries.push(line)) },
    );
    const blocker = new pg.Client({ connectionString: database.url });
    const reader = new pg.Client({ connectionString: database.url });
    await Promise.all([blocker.connect(), reader.connect()]);
    try {
      await blocker.query("BEGIN; SELECT count(*) FROM items");
      const runner = runnerFor(
        database.url,
        folder.dir,
        { lockTimeoutMs, retries: 20, retryDelayMs: 100 },
        logger,
      );
      let done = false;
      const migrated = runner.up().finally(() => {
        done = true;
      });
      const releaseBlocker = setTimeout(() => void blocker.query("COMMIT"), 2_000);
      // The server measures each read's wait: from when it received the statement to when the statement
      // ran, i.e. after its lock on items was granted (free of this busy test process's scheduling delays).
      const waits: number[] = [];
      const roundTrips: number[] = [];
      while (!done) {
        const started = performance.now();
        const read = await reader.query<{ waited_ms: number }>(
          "SELECT count(*), extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000 AS waited_ms FROM items",
        );
        roundTrips.push(performance.now() - started);
        waits.push(Number(read.rows[0]?.waited_ms));
        await sleep(20);
      }
      clearTimeout(releaseBlocker);
      const result = await migrated;
      expect(result.applied[0]?.retries).toBeGreaterThanOrEqual(2);
      expect(retries.length).toBe(result.applied[0]?.retries);
      expect(waits.length).toBeGreaterThan(10);
      expect(Math.max(...waits)).toBeGreaterThan(lockTimeoutMs / 3);
      expect(Math.max(...waits)).toBeLessThan(lockTimeoutMs + 100);
      expect(Math.max(...roundTrips)).toBeLessThan(lockTimeoutMs + 1_000);
      const columns = await query(
        database.url,
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'",
      );
      expect(columns).toHaveLength(1);
    } finally {
      await blocker.end().catch(() => undefined);
      await reader.end();
    }
  });

  it("runs out of retries with a message that names the cause, and leaves the schema as it was", async () => {
    await query(database.url, "CREATE TABLE items (id int PRIMARY KEY)");
    const folder = migrationFolder();
    cleanup.push(() => folder.remove());
    const runner = runnerFor(database.url, folder.dir, { lockTimeoutMs: 100, retries: 2, retryDelayMs: 20 });
    await runner.up();
    folder.write("0001_note.sql", "-- cutover:phase expand\nALTER TABLE items ADD COLUMN note text;\n");
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query("BEGIN; SELECT count(*) FROM items");
      const before = await schemaSnapshot(database.url);
      const failure = await runner.up().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MigrationFailedError);
      expect((failure as MigrationFailedError).code).toBe<ErrorCode>("MIGRATION_LOCK_TIMEOUT");
      expect((failure as Error).message).toMatch(
        /0001_note could not get a lock within lock_timeout \(100ms\) in 3 attempt/,
      );
      await blocker.query("COMMIT");
      expect(await schemaSnapshot(database.url)).toEqual(before);
    } finally {
      await blocker.end();
    }
  });
});

/** Takes cutover's migration lock (pg_advisory_lock("cutv", 1)) on a connection of the test's own. */
async function holdMigrationLock(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: "the test's runner" });
  await client.connect();
  await client.query("SELECT pg_advisory_lock(1668641910, 1)");
  return client;
}

async function eventually(probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms`);
    await sleep(20);
  }
}
