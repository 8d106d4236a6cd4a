import { resolve } from "node:path";
import type { Logger } from "pino";
import type { DatabaseConfig } from "../config/database-schema.js";
import type { LoadedConfig } from "../config/load.js";
import { readOwner } from "./embedded/data-dir-owner.js";
import { embeddedUrl } from "./embedded/embedded-url.js";
import { EmbeddedDatabaseBusyError } from "./migration-errors.js";
import { sleep } from "./runner/sleep.js";
import { redactUrl } from "./runner/sql-client.js";

/** The database migrations run against, however it is reached. */
export interface DatabaseHandle {
  readonly kind: "server" | "embedded";
  /** Where the runner and the colours connect. */
  readonly url: string;
  /** In words, without secrets: "postgres://app:***@db:5432/shop", "embedded (pid 4242, port 41234)". */
  readonly where: string;
  /** Closes what this process opened (the embedded database); a server stays as it is. */
  close(): Promise<void>;
}

/**
 * own: this process must serve the embedded database (the daemon: the colours connect to it).
 * share: use the one another process serves when there is one (the CLI next to a running daemon).
 */
export type OpenMode = "own" | "share";

const WAIT_FOR_OWNER_MS = 15_000;

/** database.url, else DATABASE_URL, else the embedded PGlite under the state folder. */
export async function openDatabase(
  loaded: LoadedConfig,
  config: DatabaseConfig,
  logger: Logger,
  mode: OpenMode,
): Promise<DatabaseHandle> {
  const url = config.url ?? process.env.DATABASE_URL;
  if (url) return { kind: "server", url, where: redactUrl(url), close: async () => undefined };
  const dataDir = resolve(loaded.stateDir, config.embedded.dataDir);
  const deadline = Date.now() + WAIT_FOR_OWNER_MS;
  for (;;) {
    const owner = readOwner(dataDir);
    if (owner === null) {
      const embedded = await openOwn(dataDir, config, logger);
      if (embedded) return embedded;
    } else if (mode === "share" && owner.port > 0) {
      const shared = embeddedUrl(owner.host, owner.port);
      return {
        kind: "embedded",
        url: shared,
        where: `embedded (served by pid ${owner.pid} on port ${owner.port})`,
        close: async () => undefined,
      };
    }
    if (Date.now() > deadline) throw new EmbeddedDatabaseBusyError(dataDir, owner?.pid ?? 0);
    await sleep(200);
  }
}

async function openOwn(
  dataDir: string,
  config: DatabaseConfig,
  logger: Logger,
): Promise<DatabaseHandle | null> {
  // PGlite (27 MB of WebAssembly) is loaded only by the process that serves the embedded database.
  const { EmbeddedDatabase } = await import("./embedded/embedded-database.js");
  try {
    const database = await EmbeddedDatabase.open({
      dataDir,
      host: config.embedded.host,
      port: config.embedded.port,
      logger,
    });
    return {
      kind: "embedded",
      url: database.url,
      where: `embedded (${dataDir}, ${database.url})`,
      close: () => database.close(),
    };
  } catch (error) {
    if (error instanceof EmbeddedDatabaseBusyError) return null;
    throw error;
  }
}
