import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import { ColourSampler } from "./colour-sampler.js";
import { createMetricSource, type MetricSourceInputs } from "./create-metric-source.js";
import { CutoverAnalysis, type MirrorSwitch } from "./cutover-analysis.js";

/** What a platform offers the analysis: where to read metrics, and shadow traffic where its data plane mirrors. */
export interface AnalysisInputs extends MetricSourceInputs {
  /** null when the data plane cannot mirror (then there is no shadow traffic). */
  readonly mirror: MirrorSwitch | null;
  /** Without mirroring, judge the new colour before the switch on what reaches its preview address. */
  readonly previewJudge: boolean;
}

/**
 * The analysis for a service's config, or null when it declares none. The sampler starts at once and
 * keeps running (its recent samples of the live colour are a deploy's baseline); call close() on shutdown.
 */
export function createDeployAnalysis(
  loaded: LoadedConfig,
  inputs: AnalysisInputs,
  logger: Logger,
): CutoverAnalysis | null {
  const config = loaded.config.analysis;
  if (!config) return null;
  const source = createMetricSource(config.source, inputs);
  const sampler = new ColourSampler({ source, intervalMs: config.interval, logger });
  sampler.start();
  return new CutoverAnalysis({
    config,
    sampler,
    mirror: inputs.mirror,
    previewJudge: inputs.previewJudge,
    logger,
  });
}
