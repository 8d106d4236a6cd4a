import { hostname } from "node:os";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { type AnalysisConfig, analysisSchema } from "../config/analysis-schema.js";
import type { LoadedConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { isProcessAlive } from "../daemon/state-files.js";
import { CutoverError } from "../errors.js";
import type { GlobalFront } from "../front/global-front.js";
import { type FleetWave, runFleetDeploy } from "./fleet-deploy.js";
import { haltFleet } from "./fleet-halt.js";
import { FleetJudge } from "./fleet-judge.js";
import { FleetStore } from "./fleet-store.js";
import { frontFor } from "./front-for-config.js";
import { putBackAll } from "./front-moves.js";
import type { FleetRecord } from "./model/fleet-record.js";
import type { Region } from "./region.js";
import { type RegionExtras, regionsFor } from "./regions-for-config.js";

/** Test seams: the regions' (see RegionExtras), and a global front to drive instead of the one globalFront: names. */
export interface FleetExtras extends RegionExtras {
  /** Used by deploy() as is, and left open: the caller that made it closes it. */
  readonly front?: GlobalFront;
}

/** The fleet of cutover.yaml, opened: its regions, its store, its front; close() ends what was opened. */
export class Fleet {
  readonly loaded: LoadedConfig;
  readonly regions: readonly Region[];
  readonly store: FleetStore;
  readonly #logger: Logger;
  readonly #front: GlobalFront | undefined;

  private constructor(loaded: LoadedConfig, regions: readonly Region[], logger: Logger, front?: GlobalFront) {
    this.loaded = loaded;
    this.regions = regions;
    this.store = new FleetStore(resolve(loaded.dir, loaded.config.fleet.stateDir));
    this.#logger = logger;
    this.#front = front;
  }

  static async open(loaded: LoadedConfig, logger: Logger, extras: FleetExtras = {}): Promise<Fleet> {
    return new Fleet(loaded, await regionsFor(loaded, logger, extras), logger, extras.front);
  }

  region(name: string): Region {
    const region = this.regions.find((r) => r.name === name);
    if (!region)
      throw new CutoverError(
        "BAD_ARGUMENT",
        `--region ${name}: no such region in ${this.loaded.file} (regions are ${this.regions.map((r) => r.name).join(", ")})`,
      );
    return region;
  }

  /** Deploys `version` wave by wave; `signal` aborted halts it (every switched region goes back). */
  async deploy(
    version: string,
    signal: AbortSignal,
    onChange?: (record: FleetRecord) => void,
  ): Promise<FleetRecord> {
    const { config } = this.loaded;
    const front = this.#front ?? (await frontFor(this.loaded));
    const analysis = config.analysis ?? defaultAnalysis();
    const judge = new FleetJudge(this.regions, {
      intervalMs: config.fleet.judgeInterval,
      analysis,
      logger: this.#logger,
    });
    try {
      return await runFleetDeploy({
        version,
        regions: this.regions,
        waves: fleetWaves(config),
        store: this.store,
        judge,
        checkEveryMs: Math.min(config.fleet.judgeInterval, 2_000),
        front,
        drainDuringDeploy: config.globalFront?.drainDuringDeploy ?? false,
        frontTimeoutMs: config.fleet.frontTimeout,
        logger: this.#logger,
        signal,
        ...(onChange ? { onChange } : {}),
      });
    } finally {
      // A front the caller gave is the caller's to close.
      if (front !== this.#front) await front?.close();
    }
  }

  /**
   * `cutover abort` on a fleet: asks a live runner on this machine to halt (SIGTERM) and waits for its
   * record to end; for a runner that is gone, halts the fleet here, from the record it left.
   */
  async abort(waitMs = 600_000): Promise<FleetRecord> {
    const record = this.store.current();
    if (record?.phase !== "Progressing")
      throw new CutoverError(
        "NO_DEPLOY",
        "no fleet deploy is in progress; to send every region back to its previous version run `cutover rollback`",
      );
    if (record.runner.host !== hostname())
      throw new CutoverError(
        "DEPLOY_IN_PROGRESS",
        `fleet deploy ${record.id} is run by pid ${record.runner.pid} on ${record.runner.host}, not this machine; run \`cutover abort\` there (or stop that job: its runner halts on SIGINT or SIGTERM)`,
      );
    if (runnerAlive(record)) {
      process.kill(record.runner.pid, "SIGTERM");
      return this.#waitForEnd(record.id, waitMs);
    }
    const reason = `aborted by \`cutover abort\`: its runner (pid ${record.runner.pid} on ${record.runner.host}) is gone`;
    const save = () => this.store.save(record);
    await haltFleet({ record, regions: this.regions, reason, save, logger: this.#logger });
    await this.#putBackAll(record, save);
    return record;
  }

  /** Puts back in the global front every region the fleet deploy took out (its runner did not). */
  async #putBackAll(record: FleetRecord, save: () => void): Promise<void> {
    if (!Object.values(record.regions).some((r) => r.frontOut)) return;
    const front = this.#front ?? (await frontFor(this.loaded));
    if (!front) return;
    try {
      await putBackAll(
        { front, record, save, timeoutMs: this.loaded.config.fleet.frontTimeout },
        this.#logger,
      );
    } finally {
      if (front !== this.#front) await front.close();
    }
  }

  async #waitForEnd(id: string, waitMs: number): Promise<FleetRecord> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const record = this.store.current();
      if (record && (record.id !== id || record.phase !== "Progressing")) return record;
      if (record && !runnerAlive(record)) return this.abort(waitMs);
      if (Date.now() > deadline)
        throw new CutoverError(
          "RUNNER_STILL_RUNNING",
          `the runner of ${id} did not end it within ${waitMs / 1000} s; see \`cutover status\``,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.regions.map((r) => r.control.close()));
  }
}

/** The waves in order, each with its bake and parallelism (default: one region at a time, as listed). */
export function fleetWaves(config: Config): FleetWave[] {
  const waves = config.waves ?? (config.regions ?? []).map((r) => ({ regions: [r.name] }));
  return waves.map((wave: { regions: string[]; bake?: number; maxParallel?: number }) => {
    const limit = wave.maxParallel ?? config.fleet.maxParallel;
    return {
      regions: wave.regions,
      bakeMs: wave.bake ?? config.fleet.bake,
      ...(limit !== undefined ? { maxParallel: limit } : {}),
    };
  });
}

/** A runner that still runs: on this machine, its pid alive; on another, assumed alive (said so). */
export function runnerAlive(record: FleetRecord): boolean {
  if (record.runner.host !== hostname()) return true;
  return isProcessAlive(record.runner.pid);
}

/** `analysis:` with every default, when cutover.yaml has none: the fleet judges all the same. */
function defaultAnalysis(): AnalysisConfig {
  return analysisSchema.parse({}) as AnalysisConfig;
}
