/**
 * The two PostgreSQL clusters with wal_level=logical the database sync tests run against (issue 14):
 * 127.0.0.1:5441 and :5442, made and started by scripts/sync-test-clusters.sh (CI runs it; a test run
 * starts them too when they do not answer). Each test gets a fresh database on each.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { query } from "./migration-project.js";

export const CLUSTERS = { blue: 5441, green: 5442 } as const;
const SCRIPT = resolve(import.meta.dirname, "../../../scripts/sync-test-clusters.sh");

async function answers(port: number): Promise<boolean> {
  const client = new pg.Client({
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    connectionTimeoutMillis: 2_000,
  });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let started: Promise<void> | null = null;

/** Starts the clusters once per test process if they do not answer; fails with the script's own words. */
export function syncClusters(): Promise<void> {
  started ??= (async () => {
    if ((await answers(CLUSTERS.blue)) && (await answers(CLUSTERS.green))) return;
    try {
      await promisify(execFile)(SCRIPT, [], { timeout: 120_000 });
    } catch (error) {
      throw new Error(
        `the database sync tests need two PostgreSQL clusters with wal_level=logical on 127.0.0.1:5441 and :5442, and ${SCRIPT} could not start them: ${(error as { stderr?: string }).stderr || (error as Error).message}`,
      );
    }
  })();
  return started;
}

/** One query on a connection of its own (the migration tests' helper). */
export const sql = query;

/** The replication objects named cutover_* in `url`'s database and cluster: what must be gone after a stop. */
export async function replicationLeftovers(url: string): Promise<string[]> {
  const rows = await sql<{ what: string }>(
    url,
    `SELECT 'publication ' || pubname AS what FROM pg_publication WHERE pubname LIKE 'cutover%'
     UNION ALL SELECT 'subscription ' || subname FROM pg_subscription WHERE subname LIKE 'cutover%'
       AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     UNION ALL SELECT 'slot ' || slot_name FROM pg_replication_slots WHERE slot_name LIKE 'cutover%'
       AND database = current_database()`,
  );
  return rows.map((r) => r.what);
}

export interface SyncDatabases {
  readonly blue: string;
  readonly green: string;
  /** Drops what replicates between them, then both databases. */
  close(): Promise<void>;
}

/** A new, empty database on each cluster. */
export async function syncDatabases(
  port: Partial<Record<"blue" | "green", number>> = {},
): Promise<SyncDatabases> {
  await syncClusters();
  const name = `cutover_sync_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = (p: number) => `postgres://postgres@127.0.0.1:${p}/postgres`;
  const ports = { blue: port.blue ?? CLUSTERS.blue, green: port.green ?? CLUSTERS.green };
  for (const p of Object.values(ports)) await sql(admin(p), `CREATE DATABASE ${name}`);
  const url = (p: number) => `postgres://postgres@127.0.0.1:${p}/${name}`;
  return {
    blue: url(ports.blue),
    green: url(ports.green),
    async close() {
      // A subscription must let go of its slot before its database can be dropped, and a slot before its.
      for (const p of Object.values(ports)) {
        for (const { subname } of await sql<{ subname: string }>(
          url(p),
          "SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )) {
          await sql(url(p), `ALTER SUBSCRIPTION "${subname}" DISABLE`);
          await sql(url(p), `ALTER SUBSCRIPTION "${subname}" SET (slot_name = NONE)`);
          await sql(url(p), `DROP SUBSCRIPTION "${subname}"`);
        }
      }
      for (const p of Object.values(ports)) {
        for (const { slot_name, active_pid } of await sql<{ slot_name: string; active_pid: number | null }>(
          admin(p),
          "SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1",
          [name],
        )) {
          if (active_pid !== null) await sql(admin(p), "SELECT pg_terminate_backend($1)", [active_pid]);
          await sql(admin(p), "SELECT pg_drop_replication_slot($1)", [slot_name]).catch(() => undefined);
        }
        await sql(admin(p), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    },
  };
}
