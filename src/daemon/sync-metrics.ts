import { Gauge, Registry } from "prom-client";
import type { SyncReading, SyncState } from "../engine/ports/database-sync.js";

const STATES: readonly SyncState[] = ["copying", "streaming", "disconnected", "disabled", "stopped"];

/**
 * The database sync (database.sync: logical) for Prometheus, from the engine's last reading: its state,
 * the follower's lag in bytes and seconds, and the WAL each of cutover's slots keeps (an abandoned one fills
 * the disk: alert on cutover_database_sync_slot_abandoned).
 */
export class SyncMetrics {
  readonly #registry = new Registry();

  constructor(latest: () => SyncReading | null) {
    const registers = [this.#registry];
    new Gauge({
      name: "cutover_database_sync_state",
      help: "1 for the state the sync of the colours' databases is in, 0 for the others",
      labelNames: ["state", "source", "follower"],
      registers,
      collect() {
        this.reset();
        const reading = latest();
        if (!reading) return;
        const labels = { source: reading.source ?? "", follower: reading.follower ?? "" };
        for (const state of STATES) this.set({ ...labels, state }, state === reading.state ? 1 : 0);
      },
    });
    new Gauge({
      name: "cutover_database_sync_lag_bytes",
      help: "WAL the follower's database has not confirmed yet",
      registers,
      collect() {
        this.reset();
        const lag = latest()?.lagBytes;
        if (lag != null) this.set(lag);
      },
    });
    new Gauge({
      name: "cutover_database_sync_lag_seconds",
      help: "How far behind the follower's database replays (PostgreSQL's replay_lag)",
      registers,
      collect() {
        this.reset();
        const lag = latest()?.lagSeconds;
        if (lag != null) this.set(lag);
      },
    });
    new Gauge({
      name: "cutover_database_sync_slot_retained_bytes",
      help: "WAL a replication slot of cutover's keeps on its database's server",
      labelNames: ["database", "slot"],
      registers,
      collect() {
        this.reset();
        for (const slot of latest()?.slots ?? [])
          this.set({ database: slot.database, slot: slot.name }, slot.retainedBytes);
      },
    });
    new Gauge({
      name: "cutover_database_sync_slot_abandoned",
      help: "1 for a replication slot of cutover's that no subscription uses (`cutover db sync stop` drops it)",
      labelNames: ["database", "slot"],
      registers,
      collect() {
        this.reset();
        for (const slot of latest()?.slots ?? [])
          this.set({ database: slot.database, slot: slot.name }, slot.abandoned ? 1 : 0);
      },
    });
  }

  metrics(): Promise<string> {
    return this.#registry.metrics();
  }
}
