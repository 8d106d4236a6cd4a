import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "pino";
import { EmbeddedDatabaseBusyError } from "../migration-errors.js";
import { announceOwner, claimOwner, readOwner, releaseOwner } from "./data-dir-owner.js";
import { embeddedUrl } from "./embedded-url.js";
import { PgliteWireServer } from "./pglite-wire-server.js";

export interface EmbeddedDatabaseOptions {
  /** PGlite's data folder; created (initdb) on first use. */
  readonly dataDir: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logger: Logger;
}

/** The embedded PostgreSQL (PGlite) of a service, opened by this process and served on the wire protocol. */
export class EmbeddedDatabase {
  readonly #options: EmbeddedDatabaseOptions;
  readonly #db: PGlite;
  readonly #server: PgliteWireServer;
  #closed = false;

  private constructor(options: EmbeddedDatabaseOptions, db: PGlite, server: PgliteWireServer) {
    this.#options = options;
    this.#db = db;
    this.#server = server;
  }

  /** Opens the data folder; refuses (EmbeddedDatabaseBusyError) when another process has it open. */
  static async open(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const { dataDir, host, logger } = options;
    await mkdir(dirname(dataDir), { recursive: true });
    if (!claimOwner(dataDir, { pid: process.pid, host, port: 0 })) {
      throw new EmbeddedDatabaseBusyError(dataDir, readOwner(dataDir)?.pid ?? 0);
    }
    try {
      const started = performance.now();
      const db = await PGlite.create({ dataDir });
      const server = new PgliteWireServer({ db, host, port: options.port, logger });
      const port = await server.start();
      announceOwner(dataDir, { pid: process.pid, host, port });
      logger.info(
        { dataDir, port, openMs: Math.round(performance.now() - started) },
        "embedded database open",
      );
      return new EmbeddedDatabase(options, db, server);
    } catch (error) {
      releaseOwner(dataDir, process.pid);
      throw error;
    }
  }

  /** postgres://postgres@host:port/postgres */
  get url(): string {
    return embeddedUrl(this.#options.host, this.#server.port);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#server.stop();
    await this.#db.close();
    releaseOwner(this.#options.dataDir, process.pid);
    this.#options.logger.info({ dataDir: this.#options.dataDir }, "embedded database closed");
  }
}
