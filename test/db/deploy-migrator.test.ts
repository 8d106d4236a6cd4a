import pg from "pg";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { databaseSchema } from "../../src/config/database-schema.js";
import { UnsafeMigrationError } from "../../src/db/lint/unsafe-migration-error.js";
import { MigrationFailedError, SchemaRangeError } from "../../src/db/migration-errors.js";
import { MigrationRunner } from "../../src/db/runner/migration-runner.js";
import { SqlDeployMigrator } from "../../src/db/sql-deploy-migrator.js";
import { databaseTargets, type TestDatabase } from "./helpers/databases.js";
import {
  type MigrationFolder,
  migrationFolder,
  query,
  schemaSnapshot,
  testSettings,
} from "./helpers/migration-project.js";

const quiet = pino({ level: "silent" });
const signal = new AbortController().signal;

const USERS = `-- cutover:phase expand
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
-- cutover:down
DROP TABLE users;
`;

describe.each(await databaseTargets())("the deploy migrator on $name", (target) => {
  let database: TestDatabase;
  let folder: MigrationFolder;

  beforeEach(async () => {
    database = await target.create();
    folder = migrationFolder({ "0001_users.sql": USERS });
  });
  afterEach(async () => {
    await database?.close();
    folder?.remove();
  });

  const migrator = (config: Record<string, unknown> = {}) => {
    const parsed = databaseSchema.parse({ url: database.url, ...config });
    if (!parsed) throw new Error("no database config");
    const runner = new MigrationRunner({ ...testSettings(folder.dir), url: database.url, logger: quiet });
    const handle = {
      kind: "server" as const,
      url: database.url,
      where: "test",
      close: async () => undefined,
    };
    return new SqlDeployMigrator({ database: handle, runner, config: parsed, logger: quiet });
  };

  it("refuses a backward-incompatible expand step before anything changes, naming the finding and the alternative", async () => {
    folder.write(
      "0002_not_null.sql",
      "-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text NOT NULL;\n",
    );
    const before = await schemaSnapshot(database.url);
    const refused = await migrator()
      .expand("2.0.0", "green", signal)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnsafeMigrationError);
    const firstLine = (refused as UnsafeMigrationError).summary;
    expect(firstLine).toContain(
      "0002_not_null is not safe while two versions run (add-column-not-null-without-default",
    );
    expect(firstLine).toContain("instead: add the column nullable");
    expect(await schemaSnapshot(database.url)).toEqual(before);
  });

  it("leaves the schema as it was when an expand migration fails", async () => {
    const deploy = migrator();
    await deploy.expand("1.0.0", "green", signal);
    const before = await schemaSnapshot(database.url);
    folder.write(
      "0002_broken.sql",
      "-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text;\nINSERT INTO users (name) VALUES (NULL);\n",
    );
    await expect(deploy.expand("2.0.0", "green", signal)).rejects.toBeInstanceOf(MigrationFailedError);
    expect(await schemaSnapshot(database.url)).toEqual(before);
  });

  it("hands each colour the search_path of the schema version its version first started at", async () => {
    const deploy = migrator();
    await deploy.expand("1.0.0", "green", signal);
    expect((await deploy.colourEnv("blue", "1.0.0")).CUTOVER_SCHEMA_VERSION).toBe("0001");
    folder.write("0002_email.sql", "-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text;\n");
    await deploy.expand("2.0.0", "green", signal);
    const green = await deploy.colourEnv("green", "2.0.0");
    const blueAgain = await deploy.colourEnv("blue", "1.0.0");
    expect(green.PGOPTIONS).toBe("-c search_path=cutover_v0002,public");
    expect(blueAgain.PGOPTIONS).toBe("-c search_path=cutover_v0001,public");
  });

  it("checks the schema range a version declares, and says what is missing", async () => {
    folder.write("0002_email.sql", "-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text;\n");
    folder.write("0003_drop_name.sql", "-- cutover:phase contract\nALTER TABLE users DROP COLUMN name;\n");
    const deploy = migrator({ requires: { "1.x": "<=0002", "2.x": ">=0002", "3.0.0": ">=0003" } });
    expect(await deploy.expand("2.0.0", "green", signal)).toMatch(/applied 0001_users, 0002_email/);
    expect(await deploy.checkSchema("2.1.0")).toBe('schema 0002 satisfies >=0002 ("2.x")');
    expect(await deploy.checkSchema("1.4.0")).toBe('schema 0002 satisfies <=0002 ("1.x")');
    expect(await deploy.checkSchema("4.0.0")).toBe("no schema range declared for 4.0.0");
    await expect(deploy.checkSchema("3.0.0")).rejects.toThrow(
      /3\.0\.0 needs schema >=0003 \(database.requires "3.0.0"\), but 0003_drop_name \(contract\) is not applied; apply it with `cutover migrate contract`/,
    );
    expect(await deploy.contract()).toMatch(/^contracted 0003_drop_name/);
    const rollback = await deploy.checkSchema("1.0.0").catch((error: unknown) => error);
    expect(rollback).toBeInstanceOf(SchemaRangeError);
    expect((rollback as Error).message).toMatch(
      /0003_drop_name \(contract\) is applied and removed what 1\.0\.0 uses/,
    );
  });

  it("holds contract migrations when database.contract is manual", async () => {
    folder.write("0002_drop_name.sql", "-- cutover:phase contract\nALTER TABLE users DROP COLUMN name;\n");
    const deploy = migrator({ contract: "manual" });
    await deploy.expand("2.0.0", "green", signal);
    expect(await deploy.contract()).toBe(
      "0002_drop_name held for `cutover migrate contract` (database.contract: manual)",
    );
    const columns = await query(
      database.url,
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'",
    );
    expect(columns).toHaveLength(1);
  });

  it("drops the versioned views before contract migrations, which may drop a column the views selected", async () => {
    folder.write(
      "0002_flag.sql",
      "-- cutover:phase expand\nALTER TABLE users ADD COLUMN legacy_flag boolean;\n",
    );
    const deploy = migrator();
    await deploy.expand("1.0.0", "green", signal);
    folder.write(
      "0003_rename.sql",
      "-- cutover:phase expand\nALTER TABLE users RENAME COLUMN name TO display_name;\n",
    );
    folder.write(
      "0004_drop_flag.sql",
      "-- cutover:phase contract\nALTER TABLE users DROP COLUMN legacy_flag;\n",
    );
    await deploy.expand("2.0.0", "green", signal);
    expect(await deploy.contract()).toBe("contracted 0004_drop_flag; schema 0004; dropped cutover_v0002");
    const columns = await query<{ column_name: string }>(
      database.url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toEqual(["id", "display_name"]);
  });

  it("serves a renamed table under its old name to the old colour, for reads and writes, until contract", async () => {
    const deploy = migrator();
    await deploy.expand("1.0.0", "green", signal);
    const blue = new pg.Client({ connectionString: (await deploy.colourEnv("blue", "1.0.0")).DATABASE_URL });
    await blue.connect();
    try {
      await blue.query("INSERT INTO users (name) VALUES ('before')");
      folder.write(
        "0002_accounts.sql",
        "-- cutover:phase expand\nALTER TABLE users RENAME TO accounts;\n-- cutover:down\nALTER TABLE accounts RENAME TO users;\n",
      );
      await deploy.expand("2.0.0", "green", signal);
      await blue.query("INSERT INTO users (name) VALUES ('after')");
      await blue.query("UPDATE users SET name = 'before!' WHERE name = 'before'");
      expect((await blue.query("SELECT name FROM users ORDER BY id")).rows).toEqual([
        { name: "before!" },
        { name: "after" },
      ]);
      const green = await query<{ name: string }>(
        (await deploy.colourEnv("green", "2.0.0")).DATABASE_URL as string,
        "SELECT name FROM accounts ORDER BY id",
      );
      expect(green.map((row) => row.name)).toEqual(["before!", "after"]);
    } finally {
      await blue.end();
    }
    expect(await deploy.contract()).toMatch(/dropped cutover_v0001/);
    expect(await query(database.url, "SELECT to_regclass('users') AS users")).toEqual([{ users: null }]);
  });
});
