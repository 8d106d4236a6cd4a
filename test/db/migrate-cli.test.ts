/**
 * `cutover migrate ...` as a user runs it, next to a process that serves the embedded database (as the
 * daemon does): the commands find it through its owner file and connect to its wire protocol port.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedDatabase } from "../../src/db/embedded/embedded-database.js";
import { pgliteTemplate } from "./helpers/databases.js";
import { runMigrateCli } from "./helpers/run-migrate-cli.js";

const cutover = (cwd: string, ...args: string[]) => runMigrateCli(cwd, args, { DATABASE_URL: "" });

describe("cutover migrate", () => {
  let dir: string;
  let database: EmbeddedDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cutover-test-cli-"));
    mkdirSync(join(dir, "migrations"));
    writeFileSync(
      join(dir, "cutover.yaml"),
      'service: shop\nversion: 1.0.0\nstart: { command: "true" }\ndatabase:\n  migrations: migrations\n',
    );
    writeFileSync(
      join(dir, "migrations", "0001_users.sql"),
      "-- cutover:phase expand\nCREATE TABLE users (id bigint PRIMARY KEY, name text);\n-- cutover:down\nDROP TABLE users;\n",
    );
    writeFileSync(
      join(dir, "migrations", "0002_email.sql"),
      "-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text;\n-- cutover:down\nALTER TABLE users DROP COLUMN email;\n",
    );
    writeFileSync(
      join(dir, "migrations", "0003_drop_name.sql"),
      "-- cutover:phase contract\nALTER TABLE users DROP COLUMN name;\n",
    );
    const dataDir = join(dir, ".cutover", "pglite");
    cpSync(await pgliteTemplate(), dataDir, { recursive: true });
    database = await EmbeddedDatabase.open({
      dataDir,
      host: "127.0.0.1",
      port: 0,
      logger: pino({ level: "silent" }),
    });
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lint: reports findings with rule, why and instead; exit 1 on errors; --format json", async () => {
    const unsafe = join(dir, "0009_unsafe.sql");
    writeFileSync(unsafe, "-- cutover:phase expand\nALTER TABLE users DROP COLUMN name;\n");
    const elsewhere = mkdtempSync(join(tmpdir(), "cutover-test-lint-"));
    try {
      const [text, folder, json] = await Promise.all([
        cutover(dir, "migrate", "lint", unsafe),
        cutover(dir, "migrate", "lint"),
        cutover(elsewhere, "migrate", "lint", "--format", "json", unsafe),
      ]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain("0009_unsafe.sql:2:1 error[drop-column] drops users.name");
      expect(text.stdout).toContain(
        "instead: stop using the column in the new version, and drop it in a contract migration",
      );
      expect(folder.code).toBe(0);
      expect(folder.stdout).toContain("3 file(s), 3 statement(s): 0 error(s), 0 warning(s)");
      expect(json.code).toBe(1);
      const reports = JSON.parse(json.stdout) as { findings: { rule: string; line: number }[] }[];
      expect(reports[0]?.findings.map((f) => [f.rule, f.line])).toEqual([["drop-column", 2]]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  // Eight `cutover migrate` processes against the embedded database: the whole file takes ~22 s in a quiet
  // suite, this test 28-42 s beside four CPU hogs (README, Development), near the default 60 s. 120 s leaves
  // room; a hang still fails.
  it("plan, dry run, up, down and contract against the embedded database another process serves", {
    timeout: 120_000,
  }, async () => {
    const plan = await cutover(dir, "migrate", "plan");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(
      /before the new colour starts \(expand\):\n {2}0001_users\s+safe\n {2}0002_email\s+safe/,
    );
    expect(plan.stdout).toMatch(/after the old colour has stopped \(contract\):\n {2}0003_drop_name\s+safe/);

    const dry = await cutover(dir, "migrate", "up", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      "dry run: applied in one transaction, then rolled back; nothing was changed",
    );
    expect(dry.stdout).toMatch(/lock AccessExclusiveLock on users \(blocks reads and writes\)/);

    const up = await cutover(dir, "--json", "migrate", "up");
    expect(up.code).toBe(0);
    expect((JSON.parse(up.stdout) as { applied: { id: string }[] }).applied.map((a) => a.id)).toEqual([
      "0001_users",
      "0002_email",
    ]);
    const down = await cutover(dir, "migrate", "down");
    expect(down.stdout).toContain("rolled back 0002_email");
    expect(down.stdout).toContain("schema 0001");
    const early = await cutover(dir, "migrate", "contract");
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("expand migration(s) 0002_email are not applied yet");
    const all = await cutover(dir, "migrate", "up", "--contract");
    expect(all.stdout).toMatch(/applied 0002_email .*\n {2}applied 0003_drop_name/);
    const status = await cutover(dir, "migrate", "status");
    expect(status.stdout).toMatch(/^schema 0003 {2}on embedded \(served by pid \d+ on port \d+\)/);
    expect(status.stdout).toMatch(/0003_drop_name\s+contract applied/);
  });

  it("says what is wrong with exit code 2 for bad input", async () => {
    const bad = await cutover(dir, "migrate", "down", "--to", "latest");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to expects a migration version such as 0002, got "latest"');
    const elsewhere = mkdtempSync(join(tmpdir(), "cutover-test-nodb-"));
    try {
      writeFileSync(
        join(elsewhere, "cutover.yaml"),
        'service: shop\nversion: 1.0.0\nstart: { command: "true" }\n',
      );
      const none = await cutover(elsewhere, "migrate", "status");
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("has no database: section");
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
