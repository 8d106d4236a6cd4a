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
import { databasePlace, SyncNames } from "../../src/db/sync/sync-names.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import { startDaemon } from "../helpers/daemon.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";
import { replicationLeftovers, type SyncDatabases, sql, syncDatabases } from "./helpers/sync-clusters.js";

const APP = resolve(import.meta.dirname, "fixtures/writes-app.mjs");
const CREATE_WRITES = `-- cutover:phase expand
CREATE TABLE writes (
  id bigserial PRIMARY KEY,
  token text NOT NULL,
  version text NOT NULL
);
-- Not UNIQUE: a write applied twice must show as two rows.
CREATE INDEX writes_token ON writes (token);
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
  options: {
    switchoverTimeout?: string;
    autoPromote?: boolean;
    migrations?: string;
    scaleDownDelay?: string;
    extra?: string;
  } = {},
): Promise<Project> {
  const project = await makeProject({
    replicas: 1,
    deploy: `  autoPromote: ${options.autoPromote ?? true}`,
    extra: `database:
  url: "${databases.blue}"
  sync: logical
  green: { url: "${databases.green}" }
  switchoverTimeout: ${options.switchoverTimeout ?? "10s"}
${options.extra ?? ""}`,
  });
  // Rollback must find blue still warm, with the sync on (contract, which ends it, follows the scale-down).
  writeFileSync(
    project.config,
    readFileSync(project.config, "utf8").replace(
      "scaleDownDelay: 1s",
      `scaleDownDelay: ${options.scaleDownDelay ?? "10m"}`,
    ),
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

/** How long the switch step says requests were held, in ms ("312ms" or "1.02s"). */
function heldMs(record: DeployRecord): number {
  const detail = stepDetail(record, "switch");
  const held = /requests held (\d+(?:\.\d+)?)(ms|s) /.exec(detail);
  expect(held, detail).not.toBeNull();
  return Number(held?.[1]) * (held?.[2] === "s" ? 1000 : 1);
}

/** The names cutover gives its replication objects for these two databases. */
function namesOf(databases: SyncDatabases): SyncNames {
  return new SyncNames("testsvc", {
    blue: databasePlace(databases.blue),
    green: databasePlace(databases.green),
  });
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
    expect(heldMs(deployed)).toBeLessThan(1_000);
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
      [`${namesOf(databases).subscription("green", "blue")} on green`],
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
    expect(metrics).toContain(
      `cutover_database_sync_slot_abandoned{database="green",slot="${namesOf(databases).subscription("green", "blue")}"} 0`,
    );
    const shownLive = await runCli(project, "status");
    expect(shownLive.stdout).toMatch(/database sync: streaming green -> blue, \d+(\.\d)? k?B behind/);

    // The way back, 10 s later (1,000 writes at one per 10 ms at least): blue's database has followed green's
    // since the switch.
    await writer.more(1_000);
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
    expect(shown.code).toBe(0);
    // A subscription lost without its slot (dropped by hand with slot_name = NONE): the slot keeps WAL on blue.
    const forward = namesOf(databases).subscription("blue", "green");
    const publication = namesOf(databases).publication;
    for (const statement of ["DISABLE", "SET (slot_name = NONE)"])
      await sql(databases.green, `ALTER SUBSCRIPTION ${forward} ${statement}`);
    await sql(databases.green, `DROP SUBSCRIPTION ${forward}`);
    const abandoned = await runCli(project, "db", "sync", "status");
    expect(abandoned.code).toBe(1);
    expect(abandoned.stdout).toMatch(/database sync: stopped/);
    expect(abandoned.stdout).toMatch(
      new RegExp(
        `slot ${forward} on blue: inactive, keeps [\\d.]+ k?B of WAL; abandoned \\(no subscription uses it, and it fills the disk\\): \`cutover db sync stop\` drops it`,
      ),
    );
    const stopped = await runCli(project, "db", "sync", "stop");
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(
      `database sync stopped: dropped slot ${forward} on blue, publication ${publication} on blue, publication ${publication} on green`,
    );
    expect(await replicationLeftovers(databases.blue)).toEqual([]);
    expect(await replicationLeftovers(databases.green)).toEqual([]);
  }, 180_000);

  it("contract, once the old colour has stopped, ends the sync: nothing of cutover's is left on either cluster", async () => {
    const databases = await syncDatabases();
    closers.push(() => databases.close());
    const project = await syncProject(databases, { scaleDownDelay: "1s" });
    const daemon = await daemonFor(project);
    const deployed = await (await daemon.engine.deploy("2.0.0")).done;
    expect(deployed.phase).toBe("Healthy");
    expect(await replicationLeftovers(databases.blue)).not.toEqual([]);
    // The scale-down (1 s after the switch) stops blue, then contract stops the sync: wait for that.
    const deadline = Date.now() + 30_000;
    const left = async () => [
      ...(await replicationLeftovers(databases.blue)),
      ...(await replicationLeftovers(databases.green)),
    ];
    while ((await left()).length > 0) {
      expect(Date.now(), `still there 30 s after the switch: ${(await left()).join(", ")}`).toBeLessThan(
        deadline,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(daemon.engine.status().colours.blue.running).toBe(false);
    expect((await daemon.engine.readSync())?.state).toBe("stopped");
  }, 90_000);

  it("`cutover abort` after the switch takes traffic back with the database: every write green took is in blue's", async () => {
    const databases = await syncDatabases();
    closers.push(() => databases.close());
    // A long post-switch analysis: the deploy is still running after the switch, for an abort to meet it.
    const project = await syncProject(databases, {
      extra: `analysis:
  source: { type: router }
  interval: 500ms
  count: 120
  preSwitch: false
`,
    });
    const daemon = await daemonFor(project);
    const writer = new Writer(`http://127.0.0.1:${project.listen}`);
    closers.push(() => writer.stop());
    const started = await daemon.engine.deploy("2.0.0");
    for await (const record of daemon.engine.follow(started.record.id))
      if (record.steps.find((s) => s.name === "post-analysis")?.state === "running") break;
    await writer.more(100); // written by green
    await daemon.engine.abort();
    const record = await started.done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/rolled back: traffic is on blue \(1\.0\.0\) again$/);
    expect(daemon.engine.status().active).toBe("blue");
    await writer.more(50);
    await writer.stop();
    expect(writer.failures).toEqual([]);
    await expectEveryWriteOnce(databases.blue, writer.acked);
    const byGreen = await sql(databases.blue, "SELECT 1 FROM writes WHERE version = '2.0.0'");
    expect(byGreen.length).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it("a follower that stopped replaying makes the switch run past switchoverTimeout: traffic and writes stay on blue, nothing lost", async () => {
    const databases = await syncDatabases();
    closers.push(() => databases.close());
    const project = await syncProject(databases, { switchoverTimeout: "2s", autoPromote: false });
    const daemon = await daemonFor(project);
    const writer = new Writer(`http://127.0.0.1:${project.listen}`);
    closers.push(() => writer.stop());
    const started = await daemon.engine.deploy("2.0.0");
    for await (const record of daemon.engine.follow(started.record.id)) if (record.phase === "Paused") break;
    const forward = namesOf(databases).subscription("blue", "green");
    await sql(databases.green, `ALTER SUBSCRIPTION ${forward} DISABLE`);
    await writer.more(50);
    await daemon.engine.promote();
    const record = await started.done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toContain(
      `within database.switchoverTimeout (2.00s), so traffic and writes stay on blue: its subscription ${forward} is disabled`,
    );
    // Nothing of the way back is left: blue's database publishes and green's follows (disabled), as before.
    const back = namesOf(databases).subscription("green", "blue");
    const left = [
      ...(await replicationLeftovers(databases.blue)),
      ...(await replicationLeftovers(databases.green)),
    ];
    expect(left.filter((what) => what.includes(back))).toEqual([]);
    expect(left.sort()).toEqual(
      [
        `publication ${namesOf(databases).publication}`,
        `publication ${namesOf(databases).publication}`,
        `slot ${forward}`,
        `subscription ${forward}`,
      ].sort(),
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
    const [setting] = await sql<{ wal_level: string }>(databases.green, "SHOW wal_level");
    expect(setting?.wal_level, "this test needs the cluster on 127.0.0.1:5432 at wal_level=replica").toBe(
      "replica",
    );
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
