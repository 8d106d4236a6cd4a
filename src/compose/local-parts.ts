import { join } from "node:path";
import type { Logger } from "pino";
import type { MirrorSwitch } from "../analysis/cutover-analysis.js";
import { RouterMetricSource } from "../analysis/sources/router-metric-source.js";
import type { LoadedConfig } from "../config/load.js";
import { localStateStore } from "../engine/file-state-store.js";
import { LocalPlatform } from "../platforms/local/local-platform.js";
import type { ProcessRunner } from "../process/process-runner.js";
import type { DataPlane } from "../router/data-plane.js";
import type { PlatformParts } from "./platform-parts.js";
import { readyReplicas } from "./ready-replicas.js";

/** The replicas' logs, under stateDir. */
const LOG_DIR = "logs";

/** The local platform's parts: replicas as child processes, the data plane (built-in router or HAProxy), files under stateDir. */
export interface LocalParts extends PlatformParts {
  readonly platform: LocalPlatform;
  readonly router: DataPlane;
}

/**
 * Where the data plane and the replicas run. The daemon's: the data plane process (src/dataplane) and its
 * process runner. Without `runner`, replicas are this process's children and die with it; a data plane made
 * by router/create-data-plane.ts runs in this process too (tests).
 */
export interface DataPlaneSeat {
  readonly dataPlane: DataPlane;
  readonly runner?: ProcessRunner;
}

/** Builds (does not start) the local platform on `seat`, wired so ready replicas enter its data plane's rotation. */
export function localParts(loaded: LoadedConfig, logger: Logger, seat: DataPlaneSeat): LocalParts {
  const { config, stateDir, dir } = loaded;
  const router = seat.dataPlane;
  const platform = new LocalPlatform({
    start: config.start,
    health: config.health,
    upstreamProtocol: config.router.upstreamProtocol,
    cwd: dir,
    logDir: join(stateDir, LOG_DIR),
    logRotation: { maxBytes: config.logs.maxSize, keep: config.logs.keep },
    logger,
    ...(seat.runner ? { runner: seat.runner } : {}),
  });
  platform.onEndpoints((colour, endpoints) => router.setEndpoints(colour, endpoints));
  return {
    platform,
    router,
    store: localStateStore(stateDir),
    preview: config.router.preview,
    analysis: {
      router,
      replicas: readyReplicas(platform),
      versionOf: (colour) => platform.status(colour).version,
      mirror: "setMirror" in router ? (router as DataPlane & MirrorSwitch) : null,
      previewJudge: false,
    },
    sampleSource: new RouterMetricSource(router),
    journals: null,
  };
}
