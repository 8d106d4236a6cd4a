import type { Logger } from "pino";
import type { Address, AutoPromote, SmokeCheck } from "../config/schema.js";
import type { DeployRecord } from "./lifecycle.js";
import type { DeployAnalysis } from "./ports/deploy-analysis.js";
import type { DeployMigrator } from "./ports/deploy-migrator.js";
import type { Platform } from "./ports/platform.js";
import type { StateStore } from "./ports/state-store.js";
import type { TrafficRouter } from "./ports/traffic-router.js";

/** What the engine is built from: the service's settings and the platform's parts (see src/compose/). */
export interface EngineOptions {
  readonly service: string;
  /** The version served when there is no state yet. */
  readonly initialVersion: string;
  readonly replicas: number;
  readonly readyTimeoutMs: number;
  readonly scaleDownDelayMs: number;
  readonly drainTimeoutMs: number;
  readonly autoPromote: AutoPromote;
  readonly smoke: readonly SmokeCheck[];
  readonly preview: Address;
  readonly platform: Platform;
  readonly router: TrafficRouter;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly migrator?: DeployMigrator | null;
  readonly analysis?: DeployAnalysis | null;
  /** After a rollback caused by analysis, leave the failed colour running for inspection (default true). */
  readonly keepFailedColour?: boolean;
}

export type EngineEvent =
  | { readonly type: "deploy"; readonly record: DeployRecord }
  | { readonly type: "colours" };

/** A deploy or rollback that has begun: its record as it started, and its end. */
export interface StartedOperation {
  readonly record: DeployRecord;
  readonly done: Promise<DeployRecord>;
}
