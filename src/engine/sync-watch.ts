import type { Logger } from "pino";
import type { DatabaseSync, SyncReading } from "./ports/database-sync.js";

/**
 * Reads the database sync every few seconds while the engine runs, so `cutover status`, the metrics and
 * the dashboard show its state and lag without waiting on two databases.
 */
export class SyncWatch {
  readonly #sync: DatabaseSync;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #latest: SyncReading | null = null;
  #timer: NodeJS.Timeout | null = null;
  #reading: Promise<SyncReading> | null = null;

  constructor(sync: DatabaseSync, logger: Logger, intervalMs = 2_000) {
    this.#sync = sync;
    this.#log = logger;
    this.#intervalMs = intervalMs;
  }

  /** The last reading; null before the first one came back. */
  get latest(): SyncReading | null {
    return this.#latest;
  }

  start(): void {
    if (this.#timer !== null) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Reads now (one reading at a time: a second caller gets the one under way). */
  refresh(): Promise<SyncReading> {
    this.#reading ??= this.#sync.read().then((reading) => {
      if (reading.problem && reading.problem !== this.#latest?.problem)
        this.#log.warn({ problem: reading.problem }, "the database sync could not be read");
      for (const slot of reading.slots)
        if (slot.abandoned && !this.#latest?.slots.some((s) => s.name === slot.name && s.abandoned))
          this.#log.warn(
            { slot: slot.name, database: slot.database, retainedBytes: slot.retainedBytes },
            "an abandoned replication slot keeps WAL (it fills the disk): `cutover db sync stop` drops it",
          );
      this.#latest = reading;
      this.#reading = null;
      return reading;
    });
    return this.#reading;
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#reading?.catch(() => undefined);
  }
}
