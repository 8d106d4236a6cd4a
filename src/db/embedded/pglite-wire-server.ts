import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";
import type { Logger } from "pino";
import { SessionSettingsQueue } from "./session-settings-queue.js";

export interface WireServerOptions {
  readonly db: PGlite;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logger: Logger;
}

/**
 * The embedded database on the Postgres wire protocol, so blue, green and the migration runner all use
 * one database through ordinary drivers. Each connection is a PGLiteSocketHandler (framing, SSL refusal,
 * cancel requests) fed into a SessionSettingsQueue (per-client startup settings, exchanges kept whole).
 */
export class PgliteWireServer {
  readonly #options: WireServerOptions;
  readonly #queue: SessionSettingsQueue;
  readonly #handlers = new Set<PGLiteSocketHandler>();
  #server: Server | null = null;
  #port = 0;

  constructor(options: WireServerOptions) {
    this.#options = options;
    this.#queue = new SessionSettingsQueue(options.db, options.logger);
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<number> {
    const server = createServer((socket) => void this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    this.#port = typeof address === "object" && address ? address.port : this.#options.port;
    this.#options.logger.info({ host: this.#options.host, port: this.#port }, "embedded database listening");
    return this.#port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    await Promise.all([...this.#handlers].map((handler) => handler.detach(true).catch(() => undefined)));
    this.#handlers.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #accept(socket: Socket): Promise<void> {
    const handler = new PGLiteSocketHandler({
      // The queue has the shape PGLiteSocketHandler calls (enqueue, clearQueueForHandler,
      // clearTransactionIfNeeded, getQueueLength); its declared class has private fields, hence the cast.
      queryQueue: this.#queue as unknown as PGLiteSocketHandlerOptions["queryQueue"],
      closeOnDetach: true,
    });
    this.#handlers.add(handler);
    const forget = () => this.#handlers.delete(handler);
    handler.addEventListener("close", forget);
    handler.addEventListener("error", forget);
    try {
      await handler.attach(socket);
    } catch (error) {
      forget();
      socket.destroy();
      this.#options.logger.warn({ err: (error as Error).message }, "a database client could not attach");
    }
  }
}
