/**
 * The databases the db tests run against: the embedded PGlite always, and the PostgreSQL server at
 * 127.0.0.1:5432 whenever it answers. Under CI=true a server that does not answer fails the tests that
 * need it instead of skipping them.
 */

import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { pino } from "pino";
import { describe, it } from "vitest";
import { EmbeddedDatabase } from "../../../src/db/embedded/embedded-database.js";

export interface TestDatabase {
  readonly url: string;
  close(): Promise<void>;
}

export interface DatabaseTarget {
  readonly name: "pglite" | "postgres";
  create(): Promise<TestDatabase>;
}

const SERVER = { host: "127.0.0.1", port: 5432, database: "test" };

// Each test names its database; a DATABASE_URL in the developer's environment must not redirect one.
delete process.env.DATABASE_URL;
const USERS = ["postgres", "root"];

interface ServerCheck {
  readonly adminUrl: string | null;
  readonly reason: string;
}

let checked: Promise<ServerCheck> | null = null;

/** Checks once per test process whether the server answers, and as which user. */
export function checkServer(): Promise<ServerCheck> {
  checked ??= (async () => {
    let reason = "";
    for (const user of USERS) {
      const url = `postgres://${user}@${SERVER.host}:${SERVER.port}/${SERVER.database}`;
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query("SELECT 1");
        return { adminUrl: url, reason: "" };
      } catch (error) {
        reason = (error as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    return { adminUrl: null, reason };
  })();
  return checked;
}

const quiet = pino({ level: "silent" });

/** PGlite's initdb takes seconds: made once per machine, then copied for each test database. */
export async function pgliteTemplate(): Promise<string> {
  const manifest = resolve(import.meta.dirname, "../../../node_modules/@electric-sql/pglite/package.json");
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  const template = join(tmpdir(), `cutover-test-pglite-template-${version}`);
  if (existsSync(join(template, "PG_VERSION"))) return template;
  const building = mkdtempSync(join(tmpdir(), "cutover-test-pglite-build-"));
  const db = await PGlite.create({ dataDir: building });
  await db.close();
  try {
    renameSync(building, template);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return template;
}

/** Drops every schema of the database and gives it an empty public schema again. */
const RESET = `DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  CREATE SCHEMA public;
END $$`;

let shared: Promise<{ database: EmbeddedDatabase; folder: string }> | null = null;

/**
 * One embedded database per test file (opening PGlite costs seconds), served on its wire protocol like
 * the daemon serves it; each test gets it reset to an empty public schema.
 */
function sharedPglite(): Promise<{ database: EmbeddedDatabase; folder: string }> {
  shared ??= (async () => {
    const folder = mkdtempSync(join(tmpdir(), "cutover-test-pglite-"));
    const dataDir = join(folder, "data");
    cpSync(await pgliteTemplate(), dataDir, { recursive: true });
    const database = await EmbeddedDatabase.open({ dataDir, host: "127.0.0.1", port: 0, logger: quiet });
    process.once("exit", () => rmSync(folder, { recursive: true, force: true }));
    return { database, folder };
  })();
  return shared;
}

export const pgliteTarget: DatabaseTarget = {
  name: "pglite",
  async create() {
    const { database } = await sharedPglite();
    await adminQuery(database.url, RESET);
    return { url: database.url, close: async () => undefined };
  },
};

export const postgresTarget: DatabaseTarget = {
  name: "postgres",
  async create() {
    const { adminUrl, reason } = await checkServer();
    if (!adminUrl) throw new Error(`no PostgreSQL server at ${SERVER.host}:${SERVER.port}: ${reason}`);
    const name = `cutover_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      close: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  },
};

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** PGlite, and the server when it answers (under CI the server is always listed, so its absence fails). */
export async function databaseTargets(): Promise<DatabaseTarget[]> {
  const { adminUrl } = await checkServer();
  return adminUrl || process.env.CI === "true" ? [pgliteTarget, postgresTarget] : [pgliteTarget];
}

/**
 * describe() for tests that need the server: skipped with a visible reason when it does not answer, or a
 * failing test under CI=true.
 */
export async function describeOnServer(name: string, body: () => void): Promise<void> {
  const { adminUrl, reason } = await checkServer();
  if (adminUrl) {
    describe(name, body);
  } else if (process.env.CI === "true") {
    describe(name, () => {
      it("needs the PostgreSQL server at 127.0.0.1:5432 (CI=true: a missing server is a failure)", () => {
        throw new Error(`no PostgreSQL server at 127.0.0.1:5432: ${reason}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: no PostgreSQL server at 127.0.0.1:5432: ${reason})`, body);
  }
}
