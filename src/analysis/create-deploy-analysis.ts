import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { Platform } from "../platforms/platform.js";
import type { DataPlane } from "../router/data-plane.js";
import { ColourSampler } from "./colour-sampler.js";
import { createMetricSource } from "./create-metric-source.js";
import { CutoverAnalysis, type MirrorSwitch } from "./cutover-analysis.js";

/** What the analysis reads of the platform: which replicas are ready (to scrape) and which version runs where. */
export type PlatformView = Pick<Platform, "status">;

/**
 * The analysis for a service's config, or null when it declares none. The sampler starts at once and
 * keeps running (its recent samples of the live colour are a deploy's baseline); call close() on shutdown.
 */
export function createDeployAnalysis(
  loaded: LoadedConfig,
  router: DataPlane,
  logger: Logger,
  platform?: PlatformView,
): CutoverAnalysis | null {
  const config = loaded.config.analysis;
  if (!config) return null;
  const source = createMetricSource(config.source, {
    router,
    replicas: (colour) =>
      (platform?.status(colour).replicas ?? [])
        .filter((replica) => replica.ready)
        .map((replica) => ({ id: replica.id, host: replica.host, port: replica.port })),
    versionOf: (colour) => platform?.status(colour).version ?? null,
  });
  const sampler = new ColourSampler({ source, intervalMs: config.interval, logger });
  sampler.start();
  return new CutoverAnalysis({
    config,
    sampler,
    mirror: "setMirror" in router ? (router as DataPlane & MirrorSwitch) : null,
    logger,
  });
}
