import pg from "pg";
import { DatabaseUnreachableError } from "../migration-errors.js";

/** A connection to PostgreSQL (a server, or the embedded database over its wire protocol server). */
export type SqlClient = pg.Client;

export interface ConnectOptions {
  /** Shown in pg_stat_activity, so a person can see who holds the migration lock. */
  readonly applicationName: string;
  /** The runner's search_path: the base schema, whatever PGOPTIONS this process inherited says. */
  readonly searchPath: string;
}

/** Opens a connection; a database that cannot be reached is a DatabaseUnreachableError that says where. */
export async function connect(url: string, options: ConnectOptions): Promise<SqlClient> {
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName,
    options: `-c search_path=${options.searchPath}`,
  });
  client.on("error", () => {
    // A connection lost while idle is reported by the next query; without a listener it would crash.
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseUnreachableError(redactUrl(url), (error as Error).message);
  }
  return client;
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/** The SQLSTATE of a failed query, or null for errors that did not come from the server. */
export function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** Double-quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
