/**
 * The rename scenario end to end: v1 (column `name`) and v2 (column `title`) run at the same time behind
 * the router against one database, both read and write; after v1 is gone, contract leaves only `title`.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { createDeployMigrator } from "../../src/db/create-deploy-migrator.js";
import type { DeployMigrator } from "../../src/engine/ports/deploy-migrator.js";
import { LocalPlatform } from "../../src/platforms/local/local-platform.js";
import type { Router } from "../../src/router/router.js";
import { mainUrl, previewUrl, startRouter } from "../helpers/start-router.js";
import { databaseTargets, pgliteTemplate, type TestDatabase } from "./helpers/databases.js";
import {
  ITEMS_APP as APP,
  CREATE_ITEMS as CREATE,
  RENAME_NAME_TO_TITLE as RENAME,
} from "./helpers/items-rename.js";
import { query } from "./helpers/migration-project.js";

const quiet = pino({ level: "silent" });

async function call(
  base: string,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown; version: string | null }> {
  const response = await fetch(`${base}${path}`, { method });
  return {
    status: response.status,
    body: await response.json(),
    version: response.headers.get("x-app-version"),
  };
}

describe.each(await databaseTargets())("renames with versioned views on $name", (target) => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it("v1 and v2 read and write side by side behind the router; contract leaves only the new name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-test-rename-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "migrations"));
    writeFileSync(join(dir, "migrations", "0001_create_items.sql"), CREATE);
    let database: TestDatabase | null = null;
    if (target.name === "postgres") {
      database = await target.create();
      closers.push(() => database?.close());
    } else {
      cpSync(await pgliteTemplate(), join(dir, "state", "pglite"), { recursive: true });
    }
    const yaml = `service: items
version: 1.0.0
start: { command: "node ${APP}" }
stateDir: state
database:
${database ? `  url: "${database.url}"\n` : ""}  requires:
    "2.x": ">=0002"
`;
    const loaded = parseConfig(yaml, join(dir, "cutover.yaml"));
    const migrator = (await createDeployMigrator(loaded, quiet)) as DeployMigrator;
    closers.push(() => migrator.close());
    const signal = new AbortController().signal;

    expect(await migrator.expand("1.0.0", "green", signal)).toMatch(
      /^applied 0001_create_items; schema 0001/,
    );
    const blueEnv = await migrator.colourEnv("blue", "1.0.0");
    expect(blueEnv.PGOPTIONS).toBe("-c search_path=cutover_v0001,public");
    expect(blueEnv.DATABASE_URL).toContain("options=-c%20search_path%3Dcutover_v0001%2Cpublic");

    const router: Router = await startRouter();
    closers.push(() => router.close());
    const platform = new LocalPlatform({
      start: { command: `node ${APP}`, cwd: ".", env: {}, stopGrace: 2_000 },
      health: {
        path: "/health",
        interval: 100,
        timeout: 1_000,
        successThreshold: 1,
        failureThreshold: 3,
        startupGrace: 15_000,
        restartAfterFailures: 0,
      },
      cwd: dir,
      logDir: join(dir, "logs"),
    });
    closers.push(() => platform.close());
    platform.onEndpoints((colour, endpoints) => router.setEndpoints(colour, endpoints));
    await platform.start("blue", "1.0.0", 1, blueEnv);
    await platform.waitReady("blue", { timeoutMs: 15_000 });
    const live = mainUrl(router);
    const preview = previewUrl(router);
    expect(await call(live, "POST", "/items?v=a")).toEqual({
      status: 201,
      body: { id: 1, name: "a" },
      version: "1.0.0",
    });

    writeFileSync(join(dir, "migrations", "0002_rename_name.sql"), RENAME);
    await expect(migrator.checkSchema("2.0.0", "green")).rejects.toThrow(
      /2\.0\.0 needs schema >=0002 .* 0002_rename_name \(expand\) is not applied/,
    );
    expect(await migrator.expand("2.0.0", "green", signal)).toMatch(/^applied 0002_rename_name; schema 0002/);
    // v1 keeps its name through the view, for reads and writes, right after the rename.
    expect((await call(live, "GET", "/items")).body).toEqual([{ id: 1, name: "a" }]);
    expect((await call(live, "POST", "/items?v=b")).body).toEqual({ id: 2, name: "b" });

    const greenEnv = await migrator.colourEnv("green", "2.0.0");
    expect(greenEnv.PGOPTIONS).toBe("-c search_path=cutover_v0002,public");
    await platform.start("green", "2.0.0", 1, greenEnv);
    await platform.waitReady("green", { timeoutMs: 15_000 });
    expect(await call(preview, "POST", "/items?v=c")).toEqual({
      status: 201,
      body: { id: 3, title: "c" },
      version: "2.0.0",
    });
    expect((await call(live, "PATCH", "/items?id=3&v=c1")).body).toEqual({ id: 3, name: "c1" });
    expect((await call(preview, "PATCH", "/items?id=1&v=a1")).body).toEqual({ id: 1, title: "a1" });
    expect((await call(preview, "GET", "/items")).body).toEqual([
      { id: 1, title: "a1" },
      { id: 2, title: "b" },
      { id: 3, title: "c1" },
    ]);
    expect(await migrator.checkSchema("2.0.0", "green")).toMatch(/schema 0002 satisfies >=0002 \("2.x"\)/);

    router.switchTo("green");
    const [v2, v1] = await Promise.all([
      call(live, "POST", "/items?v=d"),
      call(preview, "POST", "/items?v=e"),
    ]);
    expect([v2.version, v1.version]).toEqual(["2.0.0", "1.0.0"]);
    expect([v2.status, v1.status]).toEqual([201, 201]);
    expect((await call(preview, "GET", "/items")).body).toHaveLength(5);
    expect((await call(live, "GET", "/items")).body).toHaveLength(5);

    await platform.stop("blue");
    expect(await migrator.contract()).toMatch(/dropped cutover_v0001/);
    const url = database?.url ?? (greenEnv.DATABASE_URL as string);
    const left = await query<{ nspname: string }>(
      url,
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'cutover_v%'",
    );
    expect(left).toEqual([]);
    const columns = await query<{ column_name: string }>(
      url,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toEqual(["id", "title"]);
    expect((await call(live, "POST", "/items?v=f")).body).toEqual({ id: 6, title: "f" });
  }, 60_000);
});
