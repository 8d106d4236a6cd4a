import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnsafeMigrationError } from "../../src/db/lint/unsafe-migration-error.js";
import {
  ChecksumMismatchError,
  MigrationFailedError,
  NoDownPartError,
  OutOfOrderError,
} from "../../src/db/migration-errors.js";
import { databaseTargets, type TestDatabase } from "./helpers/databases.js";
import {
  type MigrationFolder,
  migrationFolder,
  query,
  runnerFor,
  schemaSnapshot,
} from "./helpers/migration-project.js";

const CREATE_USERS = `-- cutover:phase expand
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE INDEX users_name ON users (name);
-- cutover:down
DROP TABLE users;
`;
const ADD_EMAIL = `-- cutover:phase expand
ALTER TABLE users ADD COLUMN email text;
-- cutover:down
ALTER TABLE users DROP COLUMN email;
`;
const DROP_NAME = `-- cutover:phase contract
ALTER TABLE users DROP COLUMN name;
`;

describe.each(await databaseTargets())("migration runner on $name", (target) => {
  let database: TestDatabase;
  let folder: MigrationFolder;

  beforeEach(async () => {
    database = await target.create();
    folder = migrationFolder({ "0001_create_users.sql": CREATE_USERS });
  });
  afterEach(async () => {
    await database?.close();
    folder?.remove();
  });

  it("applies pending expand migrations once, records them, and holds contract ones for contract", async () => {
    folder.write("0002_add_email.sql", ADD_EMAIL);
    folder.write("0003_drop_name.sql", DROP_NAME);
    const runner = runnerFor(database.url, folder.dir);
    const first = await runner.up();
    expect(first.applied.map((r) => r.id)).toEqual(["0001_create_users", "0002_add_email"]);
    expect((await runner.up()).applied).toEqual([]);
    const rows = await query<Record<string, unknown>>(
      database.url,
      "SELECT * FROM cutover.migrations ORDER BY version",
    );
    expect(rows.map((r) => [r.version, r.name, r.phase, r.transactional])).toEqual([
      ["0001", "create_users", "expand", true],
      ["0002", "add_email", "expand", true],
    ]);
    const upPart = ADD_EMAIL.slice(0, ADD_EMAIL.indexOf("-- cutover:down"));
    expect(rows[1]?.checksum).toBe(createHash("sha256").update(upPart).digest("hex"));
    expect(rows[1]?.applied_by).toMatch(/@/);
    expect(rows[1]?.applied_at).toBeInstanceOf(Date);
    expect(typeof rows[1]?.duration_ms).toBe("number");
    const status = await runner.status();
    expect(status.schemaVersion).toBe("0002");
    expect(status.entries.map((e) => `${e.id} ${e.state}`)).toEqual([
      "0001_create_users applied",
      "0002_add_email applied",
      "0003_drop_name held",
    ]);
    const contracted = await runner.contract();
    expect(contracted.applied.map((r) => r.id)).toEqual(["0003_drop_name"]);
    const columns = await query<{ column_name: string }>(
      database.url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY column_name",
    );
    expect(columns.map((c) => c.column_name)).toEqual(["email", "id"]);
  });

  it("leaves the schema exactly as before a migration that fails half way", async () => {
    const runner = runnerFor(database.url, folder.dir);
    await runner.up();
    const before = await schemaSnapshot(database.url);
    folder.write(
      "0002_broken.sql",
      `-- cutover:phase expand
ALTER TABLE users ADD COLUMN email text;
CREATE TABLE audit (id bigint PRIMARY KEY);
INSERT INTO users (name, email) VALUES ('a', 'a@example.com');
INSERT INTO no_such_table VALUES (1);
`,
    );
    const failure = await runner.up().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect((failure as MigrationFailedError).sqlState).toBe("42P01");
    expect((failure as Error).message).toMatch(/0002_broken failed at line 5: .*no_such_table.*rolled back/);
    expect(await schemaSnapshot(database.url)).toEqual(before);
    expect(await query(database.url, "SELECT * FROM users")).toEqual([]);
  });

  it("dry-runs inside a transaction: lists statements, durations and locks, and leaves no trace", async () => {
    const runner = runnerFor(database.url, folder.dir);
    const empty = await schemaSnapshot(database.url);
    const first = await runner.dryRun();
    expect(first.migrations[0]?.statements.map((s) => s.sql)).toEqual([
      "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)",
      "CREATE INDEX users_name ON users (name)",
    ]);
    const locks = first.migrations[0]?.statements.map((s) => s.locks.map((l) => `${l.relation} ${l.mode}`));
    expect(locks?.[0]).toContain("users AccessExclusiveLock");
    expect(locks?.[1]).toContain("users_name AccessExclusiveLock");
    expect(await schemaSnapshot(database.url)).toEqual(empty);
    await runner.up();
    folder.write("0002_add_email.sql", ADD_EMAIL);
    folder.write(
      "0003_index_email.sql",
      "-- cutover:phase expand\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
    );
    const before = await schemaSnapshot(database.url);
    const report = await runner.dryRun();
    expect(report.error).toBeNull();
    expect(report.migrations.map((m) => m.id)).toEqual(["0002_add_email", "0003_index_email"]);
    const addEmail = report.migrations[0]?.statements[0];
    expect(addEmail?.durationMs).toBeGreaterThanOrEqual(0);
    expect(addEmail?.locks).toContainEqual({
      relation: "users",
      mode: "AccessExclusiveLock",
      blocks: "blocks reads and writes",
    });
    expect(report.migrations[1]?.statements[0]?.skipped).toMatch(/not dry-runnable/);
    expect(await schemaSnapshot(database.url)).toEqual(before);
  });

  it("runs CONCURRENTLY statements alone, outside a transaction, and records the migration as such", async () => {
    folder.write(
      "0002_index_name.sql",
      `-- cutover:phase expand
ALTER TABLE users ADD COLUMN nickname text;
CREATE INDEX CONCURRENTLY users_nickname ON users (nickname);
-- cutover:down
DROP INDEX CONCURRENTLY users_nickname;
ALTER TABLE users DROP COLUMN nickname;
`,
    );
    const runner = runnerFor(database.url, folder.dir);
    const result = await runner.up();
    expect(result.applied.map((r) => [r.id, r.transactional])).toEqual([
      ["0001_create_users", true],
      ["0002_index_name", false],
    ]);
    const row = await query<{ transactional: boolean }>(
      database.url,
      "SELECT transactional FROM cutover.migrations WHERE version = '0002'",
    );
    expect(row[0]?.transactional).toBe(false);
    const index = await query(
      database.url,
      "SELECT indexrelid FROM pg_index WHERE indexrelid = 'users_nickname'::regclass AND indisvalid",
    );
    expect(index).toHaveLength(1);
  });

  it("stops on an applied migration that was edited, and on a new file that sorts before applied ones", async () => {
    folder.write("0003_add_email.sql", ADD_EMAIL);
    const runner = runnerFor(database.url, folder.dir);
    await runner.up();
    folder.write("0003_add_email.sql", ADD_EMAIL.replace("email text", "email varchar(200)"));
    const edited = await runner.up().catch((error: unknown) => error);
    expect(edited).toBeInstanceOf(ChecksumMismatchError);
    expect((edited as Error).message).toMatch(/0003_add_email was changed after it was applied/);
    folder.write("0003_add_email.sql", ADD_EMAIL);
    folder.write("0002_late.sql", "-- cutover:phase expand\nCREATE TABLE late (id int);\n");
    const late = await runner.up().catch((error: unknown) => error);
    expect(late).toBeInstanceOf(OutOfOrderError);
    expect((late as Error).message).toMatch(/0002_late is new but sorts before 0003_add_email/);
    expect((await runner.status()).entries.map((e) => e.state)).toEqual([
      "applied",
      "out-of-order",
      "applied",
    ]);
  });

  it("rolls back with down parts and restores the previous schema", async () => {
    const runner = runnerFor(database.url, folder.dir);
    const empty = await schemaSnapshot(database.url);
    await runner.up();
    const afterFirst = await schemaSnapshot(database.url);
    folder.write("0002_add_email.sql", ADD_EMAIL);
    await runner.up();
    expect(await schemaSnapshot(database.url)).not.toEqual(afterFirst);
    const down = await runner.down();
    expect(down.applied.map((r) => `${r.id} ${r.direction}`)).toEqual(["0002_add_email down"]);
    expect(await schemaSnapshot(database.url)).toEqual(afterFirst);
    await runner.up();
    await runner.down({ to: "0" });
    const tablesLeft = (await schemaSnapshot(database.url)).filter((line) => !line.includes(" cutover."));
    expect(tablesLeft).toEqual(
      empty
        .filter((line) => !line.includes(" cutover."))
        .concat("schema cutover")
        .sort(),
    );
    folder.write("0003_no_down.sql", "-- cutover:phase expand\nCREATE TABLE t (id int);\n");
    await runner.up();
    await expect(runner.down()).rejects.toBeInstanceOf(NoDownPartError);
  });

  it("refuses an unsafe expand migration before changing anything", async () => {
    folder.write("0002_drop_name.sql", "-- cutover:phase expand\nALTER TABLE users DROP COLUMN name;\n");
    const before = await schemaSnapshot(database.url);
    const refused = await runnerFor(database.url, folder.dir)
      .up()
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnsafeMigrationError);
    expect((refused as Error).message).toMatch(
      /0002_drop_name is not safe while two versions run \(drop-column/,
    );
    expect((refused as Error).message).toMatch(/contract migration/);
    expect(await schemaSnapshot(database.url)).toEqual(before);
  });
});
