/**
 * A deploy whose expand migration fails: the deploy is aborted before the new colour starts, blue keeps
 * serving untouched, and the schema is exactly as it was before the migration (transactional DDL). Runs
 * the whole daemon (router, local platform, engine, embedded database) in the test process.
 */
import { appendFileSync, copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { readOwner } from "../../src/db/embedded/data-dir-owner.js";
import { embeddedUrl } from "../../src/db/embedded/embedded-url.js";
import { silentLogger } from "../../src/log.js";
import { makeProject } from "../helpers/project.js";
import { databaseTargets, pgliteTemplate } from "./helpers/databases.js";
import { runnerFor, schemaSnapshot } from "./helpers/migration-project.js";

const DEMO_MIGRATIONS = resolve(import.meta.dirname, "../../examples/demo-app/migrations");

describe.each(await databaseTargets())("a deploy with a failing expand migration on $name", (target) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it("is aborted before the new colour starts; blue keeps serving and the schema is as before", async () => {
    const project = await makeProject();
    cleanup.push(() => rmSync(project.dir, { recursive: true, force: true }));
    project.release("2.0.0");
    const server = target.name === "postgres" ? await target.create() : null;
    if (server) cleanup.push(() => server.close());
    const database = `database:\n  migrations: migrations\n  lockTimeout: 500ms\n${server ? `  url: "${server.url}"\n` : ""}`;
    appendFileSync(project.config, database);
    mkdirSync(join(project.dir, "migrations"));
    copyFileSync(
      join(DEMO_MIGRATIONS, "0001_create_greetings.sql"),
      join(project.dir, "migrations", "0001_create_greetings.sql"),
    );
    const dataDir = join(project.dir, ".cutover", "pglite");
    if (!server) cpSync(await pgliteTemplate(), dataDir, { recursive: true });

    const daemon = await Daemon.start({ loaded: loadConfig(project.config), logger: silentLogger() });
    cleanup.push(() => daemon.stop());
    const owner = readOwner(dataDir);
    const url = server?.url ?? (owner ? embeddedUrl(owner.host, owner.port) : "");
    await runnerFor(url, join(project.dir, "migrations"), {}, pino({ level: "silent" })).up();
    const before = await schemaSnapshot(url);

    writeFileSync(
      join(project.dir, "migrations", "0002_add_author.sql"),
      `-- cutover:phase expand
ALTER TABLE greetings ADD COLUMN author text;
INSERT INTO greetings (message) VALUES (NULL);
`,
    );
    const { done } = await daemon.engine.deploy("2.0.0");
    const record = await done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/0002_add_author failed at line 3: .*null value.*message.*rolled back/);
    expect(record.reason).toMatch(/traffic stayed on blue \(1\.0\.0\)/);
    const steps = Object.fromEntries(record.steps.map((step) => [step.name, step.state]));
    expect(steps).toMatchObject({ "migrate-expand": "failed", "start-idle": "skipped" });

    expect(await schemaSnapshot(url)).toEqual(before);
    const status = daemon.engine.status();
    expect(status.active).toBe("blue");
    expect(status.colours.green.replicas).toEqual([]);
    const answer = await fetch(`http://127.0.0.1:${project.listen}/`);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { version: string }).version).toBe("1.0.0");
  }, 60_000);
});
