/**
 * The database goes away in the middle of a deploy's expand migration: the server stops answering cutover
 * (here a TCP relay in front of the real PostgreSQL server is cut, resetting cutover's connections and
 * refusing new ones; the server itself runs on, as it does when the network or a proxy between them fails).
 * The deploy must abort with traffic on blue, the server must not go on running the migration for a client
 * that is gone (a CREATE INDEX CONCURRENTLY left running would hold the migration lock and finish unrecorded),
 * and once the database is back the next deploy must apply the migration exactly once.
 */
import { appendFileSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject } from "../helpers/project.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { describeOnServer, postgresTarget } from "./helpers/databases.js";
import { query, runnerFor } from "./helpers/migration-project.js";

const DEMO_MIGRATIONS = resolve(import.meta.dirname, "../../examples/demo-app/migrations");
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const BUILD = "CREATE INDEX CONCURRENTLY greetings_message_idx ON greetings (message)";

/**
 * A project whose database is a fresh one on the real server, reached through a TCP relay the test can cut;
 * its migrations folder holds the demo's first migration. `database` adds lines to the database section.
 */
async function proxiedProject(database = "") {
  const project = await makeProject();
  cleanup.push(() => rmSync(project.dir, { recursive: true, force: true }));
  project.release("2.0.0");
  const server = await postgresTarget.create();
  cleanup.push(() => server.close());
  const direct = new URL(server.url);
  const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port) });
  cleanup.push(() => proxy.close());
  const proxied = new URL(server.url);
  proxied.port = String(proxy.port);
  appendFileSync(project.config, `database:\n  migrations: migrations\n${database}  url: "${proxied}"\n`);
  mkdirSync(join(project.dir, "migrations"));
  copyFileSync(
    join(DEMO_MIGRATIONS, "0001_create_greetings.sql"),
    join(project.dir, "migrations", "0001_create_greetings.sql"),
  );
  return { project, server, proxy };
}

await describeOnServer("the database goes away during a deploy", () => {
  it("in a CREATE INDEX CONCURRENTLY: the deploy aborts, the server stops the build, the next deploy builds it once", async () => {
    // lockTimeout is long so that the build waits on the open transaction below for as long as the test needs
    const { project, server, proxy } = await proxiedProject("  lockTimeout: 60s\n");
    await runnerFor(server.url, join(project.dir, "migrations")).up();
    writeFileSync(
      join(project.dir, "migrations", "0002_index_messages.sql"),
      `-- cutover:phase expand\n${BUILD};\n`,
    );

    const daemon = await Daemon.start({ loaded: loadConfig(project.config), logger: silentLogger() });
    cleanup.push(() => daemon.stop());

    // A writer in the middle of a transaction: the build waits for it (as it waits for any writer).
    const writer = new pg.Client({ connectionString: server.url });
    await writer.connect();
    cleanup.push(() => writer.end());
    await writer.query("BEGIN");
    await writer.query("INSERT INTO greetings (message) VALUES ('in flight')");

    const { done } = await daemon.engine.deploy("2.0.0");
    const building = () =>
      query<{ pid: number }>(server.url, "SELECT pid FROM pg_stat_activity WHERE query LIKE $1", [
        `${BUILD}%`,
      ]);
    await eventually(
      "the index build waits for the writer",
      async () => (await building()).length === 1,
      20_000,
    );

    await proxy.cut(); // the database is gone, for cutover
    const record = await done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /^0002_index_messages was cut off at line 2: the connection to the database was lost \(.+\); the statement ran outside a transaction and may have left an invalid index, which the next run drops and builds again; run it again once the database answers; traffic stayed on blue \(1\.0\.0\)$/,
    );
    const steps = Object.fromEntries(record.steps.map((step) => [step.name, step.state]));
    expect(steps).toMatchObject({ "migrate-expand": "failed", "start-idle": "skipped" });
    expect(daemon.engine.status().active).toBe("blue");
    expect(daemon.engine.status().colours.green.replicas).toEqual([]);
    const answer = await fetch(`http://127.0.0.1:${project.listen}/`);
    expect(answer.status).toBe(200);

    // The server noticed its client was gone and stopped the build, though the writer still holds it up;
    // what is left is an invalid index, and no record of the migration.
    await eventually("the orphaned build stopped", async () => (await building()).length === 0, 5_000);
    const index = await query<{ valid: boolean }>(
      server.url,
      "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('greetings_message_idx')",
    );
    expect(index).toEqual([{ valid: false }]);
    const applied = () =>
      query<{ version: string }>(server.url, "SELECT version FROM cutover.migrations ORDER BY 1");
    expect((await applied()).map((r) => r.version)).toEqual(["0001"]);

    // Back: the next deploy drops the leftover and builds the index, and records the migration once.
    await writer.query("COMMIT");
    await proxy.restore();
    const again = await (await daemon.engine.deploy("2.0.0")).done;
    expect(again.phase, again.reason).toBe("Healthy");
    expect(again.steps.find((s) => s.name === "migrate-expand")?.detail).toMatch(/0002/);
    expect(
      await query(
        server.url,
        "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('greetings_message_idx')",
      ),
    ).toEqual([{ valid: true }]);
    expect((await applied()).map((r) => r.version)).toEqual(["0001", "0002"]);
  }, 90_000);

  it("already gone when the deploy starts: refused at migrate-expand with where it looked, blue serving", async () => {
    const { project, server, proxy } = await proxiedProject();
    const daemon = await Daemon.start({ loaded: loadConfig(project.config), logger: silentLogger() });
    cleanup.push(() => daemon.stop());

    await proxy.cut();
    const record = await (await daemon.engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      new RegExp(
        `^cannot connect to the database at postgres://.*:${proxy.port}/.* \\(connect ECONNREFUSED .*\\); check database\\.url or DATABASE_URL, and that the server runs; traffic stayed on blue \\(1\\.0\\.0\\)$`,
      ),
    );
    expect(record.steps.find((s) => s.name === "start-idle")?.state).toBe("skipped");
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).status).toBe(200);

    await proxy.restore();
    const again = await (await daemon.engine.deploy("2.0.0")).done;
    expect(again.phase, again.reason).toBe("Healthy");
    expect((await query(server.url, "SELECT version FROM cutover.migrations")).length).toBe(1);
  }, 60_000);
});
