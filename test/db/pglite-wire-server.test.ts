/**
 * The embedded database's wire server: PGlite has one session, shared by every client, yet each client
 * keeps the search_path it asked for at connection time, and exchanges and transactions stay whole.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { colourDatabaseUrl } from "../../src/db/colour-connection.js";
import { pgliteTarget, type TestDatabase } from "./helpers/databases.js";
import { query } from "./helpers/migration-project.js";

describe("the embedded database's wire server", () => {
  let database: TestDatabase;
  const clients: pg.Client[] = [];
  const connect = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    database = await pgliteTarget.create();
    await query(
      database.url,
      "CREATE SCHEMA old_shape; CREATE TABLE t (v text); INSERT INTO t VALUES ('public'); CREATE TABLE old_shape.t (v text); INSERT INTO old_shape.t VALUES ('old')",
    );
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
    await database.close();
  });

  it("gives each client the search_path of its connection options, however their queries interleave", async () => {
    const blue = await connect(colourDatabaseUrl(database.url, "old_shape,public"));
    const green = await connect(database.url);
    const reads = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? blue.query<{ v: string }>("SELECT v FROM t").then((r) => `blue ${r.rows[0]?.v}`)
        : green
            .query<{ v: string }>("SELECT v FROM t WHERE $1::int >= 0", [i])
            .then((r) => `green ${r.rows[0]?.v}`),
    );
    const seen = new Set(await Promise.all(reads));
    expect([...seen].sort()).toEqual(["blue old", "green public"]);
  });

  it("keeps extended-protocol exchanges whole when clients send at once", async () => {
    const [a, b] = [await connect(database.url), await connect(database.url)];
    const echoes = Array.from({ length: 60 }, (_, i) =>
      (i % 2 === 0 ? a : b)
        .query<{ v: string }>("SELECT $1::text AS v", [`value ${i}`])
        .then((r) => r.rows[0]?.v),
    );
    expect(await Promise.all(echoes)).toEqual(Array.from({ length: 60 }, (_, i) => `value ${i}`));
  });

  it("serves a transaction to its end before another client's queries (one session underneath)", async () => {
    const [writer, reader] = [await connect(database.url), await connect(database.url)];
    await writer.query("BEGIN");
    await writer.query("INSERT INTO t VALUES ('in a transaction')");
    let read = false;
    const counted = reader.query<{ n: string }>("SELECT count(*) AS n FROM t").then((r) => {
      read = true;
      return Number(r.rows[0]?.n);
    });
    await sleep(150);
    expect(read).toBe(false);
    await writer.query("COMMIT");
    expect(await counted).toBe(2);
  });

  it("rolls back the transaction of a client that disconnects in the middle of it", async () => {
    const [leaver, other] = [await connect(database.url), await connect(database.url)];
    await leaver.query("BEGIN");
    await leaver.query("INSERT INTO t VALUES ('never committed')");
    await leaver.end();
    const rows = await other.query<{ v: string }>("SELECT v FROM t ORDER BY v");
    expect(rows.rows.map((r) => r.v)).toEqual(["public"]);
  });
});
