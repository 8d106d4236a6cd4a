import { resolve } from "node:path";
import type { DatabaseConfig } from "../../config/database-schema.js";
import type { LoadedConfig } from "../../config/load.js";
import type { RunnerSettings } from "./migration-runner.js";

/** The runner's settings from `database:` in cutover.yaml; the migrations folder resolves against its folder. */
export function runnerSettings(loaded: LoadedConfig, config: DatabaseConfig): RunnerSettings {
  return {
    folder: resolve(loaded.dir, config.migrations),
    baseSchema: config.schema,
    lockTimeoutMs: config.lockTimeout,
    statementTimeoutMs: config.statementTimeout,
    retries: config.retries,
    retryDelayMs: config.retryDelay,
    lock: {
      whenBusy: config.advisoryLock.whenBusy,
      waitTimeoutMs: config.advisoryLock.waitTimeout,
      pollIntervalMs: config.advisoryLock.pollInterval,
    },
  };
}
