/**
 * The demo's migrations: they lint clean, apply, roll back, and let 1.0.0 (which does not know `author`)
 * and 2.0.0 (which does) read and write greetings side by side.
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { greetingStore } from "../../examples/demo-app/src/db.js";
import { blockingFindings, lintMigrations } from "../../src/db/lint/lint-migration.js";
import { readMigrations } from "../../src/db/read-migrations.js";
import { databaseTargets } from "./helpers/databases.js";
import { runnerFor } from "./helpers/migration-project.js";

const MIGRATIONS = resolve(import.meta.dirname, "../../examples/demo-app/migrations");
const TARGETS = await databaseTargets();

describe("the demo's migrations", () => {
  it("are expand migrations with down parts and no lint finding", async () => {
    const migrations = await readMigrations(MIGRATIONS);
    expect(migrations.map((m) => `${m.id} ${m.phase} ${m.down ? "down" : "-"}`)).toEqual([
      "0001_create_greetings expand down",
      "0002_add_author expand down",
    ]);
    const reports = await lintMigrations(migrations, { lockTimeoutMs: 1_000 });
    expect(reports.flatMap((r) => r.findings)).toEqual([]);
    expect(blockingFindings(reports)).toEqual([]);
  });

  it("is a no-op store without DATABASE_URL", async () => {
    const store = greetingStore({ url: "", knowsAuthor: true });
    expect(store.enabled).toBe(false);
    expect(await store.record("hi", "x")).toBeNull();
    expect(await store.recent()).toEqual([]);
  });

  describe.each(TARGETS)("on $name", (target) => {
    it("1.0.0 keeps writing while 2.0.0 writes the column it added", async () => {
      const database = await target.create();
      const v1 = greetingStore({ url: database.url, knowsAuthor: false });
      const v2 = greetingStore({ url: database.url, knowsAuthor: true });
      try {
        const runner = runnerFor(database.url, MIGRATIONS);
        await runner.up();
        expect(await v1.record("hello from 1.0.0", "ignored")).toMatchObject({
          message: "hello from 1.0.0",
          author: null,
        });
        expect(await v2.record("hello from 2.0.0", "green")).toMatchObject({
          message: "hello from 2.0.0",
          author: "green",
        });
        expect(await v1.record("still here", "ignored")).toMatchObject({ id: 3 });
        expect((await v2.recent()).map((g) => [g.message, g.author])).toEqual([
          ["still here", null],
          ["hello from 2.0.0", "green"],
          ["hello from 1.0.0", null],
        ]);
        expect((await v1.recent(2)).map((g) => g.message)).toEqual(["still here", "hello from 2.0.0"]);
        await runner.down({ to: "0" });
        expect((await runner.status()).schemaVersion).toBeNull();
      } finally {
        await Promise.all([v1.close(), v2.close()]);
        await database.close();
      }
    });
  });
});
