/**
 * database.sync: logical end to end (issue 14), on two real PostgreSQL clusters with wal_level=logical and
 * the whole daemon (router, replicas, engine): a writer inserts through the router every 10 ms while blue's
 * database is copied to green's, traffic switches with requests held until green has replayed every write,
 * and rolls back the same way; the guardrails refuse before anything is created; a follower that stopped
 * replaying makes the switch time out with traffic and writes on blue; `cutover db sync stop` leaves nothing.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon/daemon.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import { startDaemon } from "../helpers/daemon.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";
import { replicationLeftovers, type SyncDatabases, sql, syncDatabases } from "./helpers/sync-clusters.js";

const APP = resolve(import.meta.dirname, "fixtures/writes-app.mjs");
const CREATE_WRITES = `-- cutover:phase expand
CREATE TABLE writes (
  id bigserial PRIMARY KEY,
  token text NOT NULL UNIQUE,
  version text NOT NULL
);
`;

/** Sends one POST every 10 ms through the router, one at a time, and keeps what was acknowledged. */
class Writer {
  readonly acked: string[] = [];
  readonly failures: string[] = [];
  #n = 0;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(base: string) {
    this.#loop = (async () => {
      while (this.#running) {
        const token = `w${this.#n++}`;
        try {
          const response = await fetch(`${base}/writes?token=${token}`, { method: "POST" });
          const body = await response.text();
          if (response.status === 201) this.acked.push(token);
          else this.failures.push(`${token}: ${response.status} ${body}`);
        } catch (error) {
          this.failures.push(`${token}: ${(error as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
  }

  /** Resolves once `count` more writes than now were acknowledged. */
  async more(count: number): Promise<void> {
    const target = this.acked.length + count;
    while (this.acked.length < target) {
      if (!this.#running) throw new Error("the writer stopped");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

/** How many times each token is in `url`'s writes table. */
async function tokenCounts(url: string): Promise<Map<string, number>> {
  const rows = await sql<{ token: string; n: string }>(
    url,
    "SELECT token, count(*) AS n FROM writes GROUP BY token",
  );
  return new Map(rows.map((r) => [r.token, Number(r.n)]));
}

async function expectEveryWriteOnce(url: string, acked: readonly string[]): Promise<void> {
  const counts = await tokenCounts(url);
  const missing = acked.filter((t) => counts.get(t) === undefined);
  const twice = acked.filter((t) => (counts.get(t) ?? 0) > 1);
  expect({ missing, twice }).toEqual({ missing: [], twice: [] });
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function syncProject(
  databases: SyncDatabases,
  options: { switchoverTimeout?: string; autoPromote?: boolean; migrations?: string } = {},
): Promise<Project> {
  const project = await makeProject({
    replicas: 1,
    deploy: `  autoPromote: ${options.autoPromote ?? true}`,
    extra: `database:
  url: "${databases.blue}"
  sync: logical
  green: { url: "${databases.green}" }
  switchoverTimeout: ${options.switchoverTimeout ?? "10s"}
`,
  });
  // Rollback must find blue still warm, with the sync on (contract, which ends it, follows the scale-down).
  writeFileSync(
    project.config,
    readFileSync(project.config, "utf8").replace("scaleDownDelay: 1s", "scaleDownDelay: 10m"),
  );
  mkdirSync(join(project.dir, "migrations"));
  writeFileSync(
    join(project.dir, "migrations", "0001_create_writes.sql"),
    options.migrations ?? CREATE_WRITES,
  );
  for (const version of ["1.0.0", "2.0.0"]) {
    const folder = join(project.dir, "releases", version);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "start.sh"), `#!/bin/sh\nexec node "${APP}"\n`);
  }
  // Blue's database gets its schema the way a user gives it one before the first `cutover up`.
  const migrated = await runCli(project, "migrate", "up");
  expect(migrated.code, migrated.stderr).toBe(0);
  return project;
}

async function daemonFor(project: Project): Promise<Daemon> {
  const daemon = await startDaemon(project);
  closers.push(() => daemon.stop());
  return daemon;
}

function stepDetail(record: DeployRecord, name: string): string {
  return record.steps.find((s) => s.name === name)?.detail ?? "";
}

describe("database.sync: logical, on two PostgreSQL clusters", () => {
  it("deploys with writes every 10 ms: each acknowledged write once in green, held < 1 s; rolls back with every write in blue; `db sync stop` leaves nothing", async () => {
    const databases = await syncDatabases();
    closers.push(() => databases.close());
    const project = await syncProject(databases);
    const daemon = await daemonFor(project);
    const writer = new Writer(`http://127.0.0.1:${project.listen}`);
    closers.push(() => writer.stop());
    await writer.more(50);

    const deployed = await (await daemon.engine.deploy("2.0.0")).done;
    expect(deployed.phase, JSON.stringify(deployed.steps, null, 1)).toBe("Healthy");
    expect(stepDetail(deployed, "migrate-expand")).toMatch(
      /green's database follows blue's: 1 table\(s\) copied/,
    );
    const held = /requests held (\d+)ms \((\d+) request/.exec(stepDetail(deployed, "switch"));
    expect(held, stepDetail(deployed, "switch")).not.toBeNull();
    expect(Number(held?.[1])).toBeLessThan(1_000);
    await writer.more(100);
    const status = daemon.engine.status();
    expect(status.active).toBe("green");

    // Every write acknowledged so far (by blue before the switch, by green after) is in green's database once.
    await expectEveryWriteOnce(databases.green, [...writer.acked]);
    const versions = await sql<{ version: string }>(
      databases.green,
      "SELECT DISTINCT version FROM writes ORDER BY 1",
    );
    expect(versions.map((r) => r.version)).toEqual(["1.0.0", "2.0.0"]);
    // `cutover status` (and --json, the dashboard) and /metrics show the sync that now runs the other way.
    const reading = await daemon.engine.readSync();
    expect(reading).toMatchObject({ state: "streaming", source: "green", follower: "blue" });
    expect(reading?.slots.map((s) => `${s.name} on ${s.database}${s.abandoned ? " abandoned" : ""}`)).toEqual(
      ["cutover_testsvc_green_to_blue on green"],
    );
    expect(daemon.engine.status().databaseSync).toEqual(reading);
    const token = readFileSync(join(project.dir, ".cutover/token"), "utf8").trim();
    const metrics = await (
      await fetch(`http://127.0.0.1:${project.admin}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();
    expect(metrics).toMatch(
      /cutover_database_sync_state\{source="green",follower="blue",state="streaming"\} 1/,
    );
    expect(metrics).toMatch(/cutover_database_sync_lag_bytes \d+/);
    expect(metrics).toMatch(
      /cutover_database_sync_slot_abandoned\{database="green",slot="cutover_testsvc_green_to_blue"\} 0/,
    );
    const shownLive = await runCli(project, "status");
    expect(shownLive.stdout).toMatch(/database sync: streaming green -> blue, \d+(\.\d)? k?B behind/);

    // The way back: blue's database has followed green's since the switch.
    await writer.more(300);
    const rolledBack = await (await daemon.engine.rollback()).done;
    expect(rolledBack.phase, JSON.stringify(rolledBack.steps, null, 1)).toBe("Healthy");
    console.log(`deploy: ${stepDetail(deployed, "switch")}\nrollback: ${stepDetail(rolledBack, "switch")}`);
    expect(stepDetail(rolledBack, "switch")).toMatch(/database switchover: requests held \d+ms/);
    expect(daemon.engine.status().active).toBe("blue");
    await writer.more(100);
    await writer.stop();
    expect(writer.failures).toEqual([]);
    // Every write green acknowledged is in blue's database, and blue's sequence went on past green's.
    await expectEveryWriteOnce(databases.blue, writer.acked);
    const mine = await sql<{ version: string; n: string }>(
      databases.blue,
      "SELECT version, count(*) AS n FROM writes GROUP BY version ORDER BY 1",
    );
    expect(mine.map((r) => r.version)).toEqual(["1.0.0", "2.0.0"]);

    const shown = await runCli(project, "db", "sync", "status");
    expect(shown.stdout).toMatch(/database sync: streaming blue -> green/);
    const stopped = await runCli(project, "db", "sync", "stop");
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(
      /database sync stopped: dropped subscription cutover_testsvc_blue_to_green/,
    );
    expect(await replicationLeftovers(databases.blue)).toEqual([]);
    expect(await replicationLeftovers(databases.green)).toEqual([]);
  }, 180_000);

  it("a follower that stopped replaying makes the switch run past switchoverTimeout: traffic and writes stay on blue, nothing lost", async () => {
    const databases = await syncDatabases();
    closers.push(() => databases.close());
    const project = await syncProject(databases, { switchoverTimeout: "2s", autoPromote: false });
    const daemon = await daemonFor(project);
    const writer = new Writer(`http://127.0.0.1:${project.listen}`);
    closers.push(() => writer.stop());
    const started = await daemon.engine.deploy("2.0.0");
    for await (const record of daemon.engine.follow(started.record.id)) if (record.phase === "Paused") break;
    await sql(databases.green, "ALTER SUBSCRIPTION cutover_testsvc_blue_to_green DISABLE");
    await writer.more(50);
    await daemon.engine.promote();
    const record = await started.done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /within database\.switchoverTimeout \(2\.00s\), so traffic and writes stay on blue: its subscription cutover_testsvc_blue_to_green is disabled/,
    );
    expect(daemon.engine.status().active).toBe("blue");
    await writer.more(50);
    await writer.stop();
    expect(writer.failures).toEqual([]);
    await expectEveryWriteOnce(databases.blue, writer.acked);
  }, 120_000);

  it("refuses a table without a primary key, before anything is created", async () => {
    const databases = await syncDatabases();
    closers.push(() => databases.close());
    const project = await syncProject(databases, {
      migrations: `${CREATE_WRITES}CREATE TABLE audit (at timestamptz NOT NULL, what text);\n`,
    });
    const daemon = await daemonFor(project);
    const record = await (await daemon.engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /table public\.audit on blue's database has no primary key or replica identity/,
    );
    expect(stepDetail(record, "migrate-expand")).toMatch(/ALTER TABLE "public"\."audit" ADD PRIMARY KEY/);
    expect(await replicationLeftovers(databases.blue)).toEqual([]);
    expect(await replicationLeftovers(databases.green)).toEqual([]);
    const greenTables = await sql(databases.green, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'");
    expect(greenTables).toEqual([]);
  }, 60_000);

  it("refuses wal_level=replica, naming the setting and the fix, before anything is created", async () => {
    // The machine's own cluster on 5432 runs with wal_level=replica: green's database is put there.
    const databases = await syncDatabases({ green: 5432 });
    closers.push(() => databases.close());
    const project = await syncProject(databases);
    const daemon = await daemonFor(project);
    const record = await (await daemon.engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /wal_level is replica on green's database \(postgres:\/\/postgres@127\.0\.0\.1:5432\/cutover_sync_\w+\); logical replication needs wal_level = logical: run ALTER SYSTEM SET wal_level = logical/,
    );
    expect(await replicationLeftovers(databases.blue)).toEqual([]);
    expect(await replicationLeftovers(databases.green)).toEqual([]);
  }, 60_000);
});
