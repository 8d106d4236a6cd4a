import { beforeAll, describe, expect, it } from "vitest";
import { MigrationFileError } from "../../src/db/migration-errors.js";
import { parseMigrationFile } from "../../src/db/parse-migration-file.js";
import { loadPgParser } from "../../src/db/pg-parser.js";
import { readMigrations } from "../../src/db/read-migrations.js";
import { migrationFolder } from "./helpers/migration-project.js";

beforeAll(() => loadPgParser());

describe("migration files", () => {
  it("reads version, name, phase, the up and down parts and their lines", () => {
    const migration = parseMigrationFile(
      "/m/0002_add_email.sql",
      "-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text;\n\n-- cutover:down\nALTER TABLE users DROP COLUMN email;\n",
    );
    expect(migration).toMatchObject({
      version: "0002",
      name: "add_email",
      id: "0002_add_email",
      phase: "expand",
    });
    expect(migration.up.sql.trim()).toBe("-- cutover:phase expand\nALTER TABLE users ADD COLUMN email text;");
    expect(migration.down?.sql.trim()).toBe("ALTER TABLE users DROP COLUMN email;");
    expect(migration.down?.line).toBe(4);
    expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("finds markers with the SQL scanner, so one inside a string or function body is not a marker", () => {
    const migration = parseMigrationFile(
      "/m/0003_fn.sql",
      `-- cutover:phase contract
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT '-- cutover:down' $$;
INSERT INTO notes VALUES ('
-- cutover:down
');
`,
    );
    expect(migration.phase).toBe("contract");
    expect(migration.down).toBeNull();
  });

  it("keeps the checksum when only the down part changes, and changes it with the up part", () => {
    const a = parseMigrationFile(
      "/m/0001_a.sql",
      "-- cutover:phase expand\nSELECT 1;\n-- cutover:down\nSELECT 2;\n",
    );
    const b = parseMigrationFile(
      "/m/0001_a.sql",
      "-- cutover:phase expand\nSELECT 1;\n-- cutover:down\nSELECT 3;\n",
    );
    const c = parseMigrationFile(
      "/m/0001_a.sql",
      "-- cutover:phase expand\nSELECT 4;\n-- cutover:down\nSELECT 2;\n",
    );
    const crlf = parseMigrationFile(
      "/m/0001_a.sql",
      "-- cutover:phase expand\r\nSELECT 1;\r\n-- cutover:down\r\nSELECT 2;\r\n",
    );
    expect(a.checksum).toBe(b.checksum);
    expect(a.checksum).not.toBe(c.checksum);
    expect(crlf.checksum).toBe(a.checksum);
  });

  it.each([
    ["0001_a.sql", "SELECT 1;", /no phase: start the file with "-- cutover:phase expand"/],
    ["0001_a.sql", "-- cutover:phase sideways\nSELECT 1;", /phase "sideways" is not expand or contract/],
    ["0001_a.sql", "-- cutover:phase expand\n-- cutover:phase contract\n", /more than one cutover:phase/],
    ["0001_a.sql", "-- cutover:phase expand\n-- cutover:rollback\n", /unknown directive "cutover:rollback"/],
    ["add_email.sql", "-- cutover:phase expand\n", /expected a name like 0001_create_users.sql/],
    ["0001_a.sql", "-- cutover:phase expand\nSELECT 'unterminated;\n", /0001_a.sql/],
  ])("refuses %s with a message saying what to fix", (name, content, message) => {
    expect(() => parseMigrationFile(`/m/${name}`, content)).toThrow(MigrationFileError);
    expect(() => parseMigrationFile(`/m/${name}`, content)).toThrow(message);
  });

  it("reads a folder in numeric order and refuses two files with one version", async () => {
    const folder = migrationFolder({
      "0010_c.sql": "-- cutover:phase expand\nSELECT 3;",
      "0002_b.sql": "-- cutover:phase expand\nSELECT 2;",
      "1_a.sql": "-- cutover:phase expand\nSELECT 1;",
      "README.md": "not a migration",
    });
    try {
      expect((await readMigrations(folder.dir)).map((m) => m.id)).toEqual(["1_a", "0002_b", "0010_c"]);
      folder.write("002_again.sql", "-- cutover:phase expand\nSELECT 2;");
      await expect(readMigrations(folder.dir)).rejects.toThrow(/same version as/);
      await expect(readMigrations(`${folder.dir}/nope`)).rejects.toThrow(/migrations folder does not exist/);
    } finally {
      folder.remove();
    }
  });
});
