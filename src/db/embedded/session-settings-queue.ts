import type { PGlite } from "@electric-sql/pglite";
import type { Logger } from "pino";
import { isStartupMessage, startupSettings } from "./startup-settings.js";

interface Job {
  readonly handlerId: number;
  readonly message: Uint8Array;
  readonly onData: (data: Uint8Array) => void;
  readonly resolve: (bytes: number) => void;
  readonly reject: (error: unknown) => void;
}

/** Message types that end what a client asked for: simple Query, Sync, Terminate. */
const ENDS_EXCHANGE = new Set([0x51, 0x53, 0x58]);
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;

/**
 * The query queue of the embedded database's wire server. PGlite has one session; every client is
 * multiplexed onto it, one exchange at a time. This queue makes each client's session its own in the two
 * ways a blue-green deploy needs:
 *  - the settings a client asked for at connection time (`options=-c search_path=...` in its URL, or
 *    PGOPTIONS) are put in place on the shared session before each of its exchanges, so blue and green
 *    really see their own search_path;
 *  - an extended-protocol exchange (Parse ... Sync) or a transaction runs to its end before another
 *    client's messages are served, so clients never interleave inside one.
 * It implements the queue interface of @electric-sql/pglite-socket's PGLiteSocketHandler.
 */
export class SessionSettingsQueue {
  readonly #db: PGlite;
  readonly #logger: Logger;
  #jobs: Job[] = [];
  #running = false;
  /** The client whose exchange or transaction is in progress; only its messages are served. */
  #owner: number | null = null;
  readonly #wanted = new Map<number, ReadonlyMap<string, string>>();
  /** What this queue last set on the shared session. */
  readonly #applied = new Map<string, string>();

  constructor(db: PGlite, logger: Logger) {
    this.#db = db;
    this.#logger = logger;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#jobs.push({ handlerId, message, onData, resolve, reject });
      void this.#drain();
    });
  }

  getQueueLength(): number {
    return this.#jobs.length;
  }

  clearQueueForHandler(handlerId: number): void {
    const mine = this.#jobs.filter((job) => job.handlerId === handlerId);
    this.#jobs = this.#jobs.filter((job) => job.handlerId !== handlerId);
    for (const job of mine) job.reject(new Error("the client disconnected"));
    this.#wanted.delete(handlerId);
  }

  /** A client went away: end what it left open so the others can go on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.#owner !== handlerId) return;
    this.#owner = null;
    if (this.#db.isInTransaction()) {
      await this.#db.exec("ROLLBACK");
      this.#logger.info({ client: handlerId }, "rolled back the transaction a disconnected client left open");
    }
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let job = this.#next(); job; job = this.#next()) await this.#run(job);
    } finally {
      this.#running = false;
    }
  }

  #next(): Job | undefined {
    const index = this.#owner === null ? 0 : this.#jobs.findIndex((job) => job.handlerId === this.#owner);
    if (index < 0 || index >= this.#jobs.length) return undefined;
    return this.#jobs.splice(index, 1)[0];
  }

  async #run(job: Job): Promise<void> {
    try {
      const startup = isStartupMessage(job.message);
      if (startup) this.#wanted.set(job.handlerId, startupSettings(job.message));
      else if (this.#owner === null) await this.#applySettings(job.handlerId);
      let bytes = 0;
      await this.#db.runExclusive(() =>
        this.#db.execProtocolRawStream(job.message, {
          onRawData: (data) => {
            bytes += data.length;
            job.onData(data);
          },
        }),
      );
      const first = job.message[0] ?? 0;
      const ended = startup || (ENDS_EXCHANGE.has(first) && !this.#db.isInTransaction());
      this.#owner = ended ? null : job.handlerId;
      job.resolve(bytes);
    } catch (error) {
      this.#owner = null;
      job.reject(error);
    }
  }

  /** Puts the client's startup settings in place on the shared session; resets what others set. */
  async #applySettings(handlerId: number): Promise<void> {
    const wanted = this.#wanted.get(handlerId) ?? new Map<string, string>();
    for (const [name, value] of wanted) {
      if (this.#applied.get(name) === value || !SETTING_NAME.test(name)) continue;
      try {
        await this.#db.query("SELECT set_config($1, $2, false)", [name, value]);
        this.#applied.set(name, value);
      } catch (error) {
        this.#logger.warn(
          { client: handlerId, name, err: (error as Error).message },
          "a startup setting was refused",
        );
      }
    }
    for (const name of [...this.#applied.keys()]) {
      if (wanted.has(name)) continue;
      await this.#db.exec(`RESET ${name}`);
      this.#applied.delete(name);
    }
  }
}
