import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { compareVersions, type Migration } from "./migration.js";
import { MigrationFileError } from "./migration-errors.js";
import { parseMigrationFile } from "./parse-migration-file.js";
import { loadPgParser } from "./pg-parser.js";

/**
 * The migrations of a folder, in version order. Files that do not end in .sql are ignored; a .sql file
 * with a bad name, two files with one version, or a missing folder is an error that says what to fix.
 */
export async function readMigrations(folder: string): Promise<Migration[]> {
  await loadPgParser();
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new MigrationFileError(
        folder,
        "the migrations folder does not exist; create it, or set database.migrations",
      );
    }
    throw error;
  }
  const files = names.filter((name) => name.endsWith(".sql")).sort();
  const migrations = await Promise.all(files.map((name) => readMigrationFile(join(folder, name))));
  migrations.sort((a, b) => compareVersions(a.version, b.version));
  for (let i = 1; i < migrations.length; i++) {
    const [previous, current] = [migrations[i - 1], migrations[i]];
    if (previous && current && compareVersions(previous.version, current.version) === 0) {
      throw new MigrationFileError(
        current.file,
        `has the same version as ${previous.id}; give one of them the next free number`,
      );
    }
  }
  return migrations;
}

export async function readMigrationFile(path: string): Promise<Migration> {
  await loadPgParser();
  return parseMigrationFile(path, await readFile(path, "utf8"));
}
