import type { Config } from "../config/schema.js";
import type { EngineOptions } from "../engine/engine-options.js";

/** The engine options that come from cutover.yaml alone, the same on every platform. */
export type EngineSettings = Pick<
  EngineOptions,
  | "service"
  | "initialVersion"
  | "replicas"
  | "readyTimeoutMs"
  | "scaleDownDelayMs"
  | "drainTimeoutMs"
  | "autoPromote"
  | "smoke"
  | "keepFailedColour"
>;

/** The one mapping from a config to the engine's settings: every platform's engine is built from it. */
export function engineSettings(config: Config): EngineSettings {
  return {
    service: config.service,
    initialVersion: config.version,
    replicas: config.replicas,
    readyTimeoutMs: config.deploy.readyTimeout,
    scaleDownDelayMs: config.deploy.scaleDownDelay,
    drainTimeoutMs: config.router.drainTimeout,
    autoPromote: config.deploy.autoPromote,
    smoke: config.deploy.smoke,
    keepFailedColour: config.analysis?.keepFailedColour ?? true,
  };
}
