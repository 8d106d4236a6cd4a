import type { Logger } from "pino";
import { type ColourSample, summarise } from "../analysis/colour-sample.js";
import { ColourSampler } from "../analysis/colour-sampler.js";
import { checkConditions } from "../analysis/conditions.js";
import { judge } from "../analysis/judge/judge.js";
import type { Colour } from "../colour.js";
import type { AnalysisConfig } from "../config/analysis-schema.js";
import type { FleetVerdict } from "./model/fleet-record.js";
import type { Region } from "./region.js";

/** The analysis settings the fleet judges with: cutover.yaml's `analysis:`, or its defaults. */
export type FleetAnalysis = Pick<AnalysisConfig, "judge" | "conditions" | "minRequests">;

/** Which colour serves users in each region (read from each region's status when judging). */
export type LiveColours = Readonly<Record<string, Colour>>;

/**
 * Reads every region's per-colour metrics every interval for the length of a fleet deploy, and judges a
 * wave at the end of its bake: the new version in the wave's regions against the old version in the
 * regions not yet deployed (the Mann-Whitney judge of src/analysis, as between two colours of one region),
 * and each wave region's own conditions (analysis.conditions) against the same baseline.
 */
export class FleetJudge {
  readonly #samplers = new Map<string, ColourSampler>();
  readonly #analysis: FleetAnalysis;

  constructor(
    regions: readonly Region[],
    options: { intervalMs: number; analysis: FleetAnalysis; logger: Logger },
  ) {
    this.#analysis = options.analysis;
    for (const region of regions)
      this.#samplers.set(
        region.name,
        new ColourSampler({
          source: region.metrics,
          intervalMs: options.intervalMs,
          logger: options.logger.child({ region: region.name }),
        }),
      );
  }

  start(): void {
    for (const sampler of this.#samplers.values()) sampler.start();
  }

  stop(): void {
    for (const sampler of this.#samplers.values()) sampler.stop();
  }

  /** The live colour's samples of `regions` since `sinceMs`, all regions together. */
  samples(regions: readonly string[], live: LiveColours, sinceMs: number): ColourSample[] {
    return regions.flatMap((name) => {
      const colour = live[name];
      const sampler = this.#samplers.get(name);
      return colour && sampler ? [...sampler.samples(colour, sinceMs)] : [];
    });
  }

  /** Judges `wave` (on the new version) against `baseline` (regions still on the old one) since `sinceMs`. */
  verdict(
    wave: readonly string[],
    baseline: readonly string[],
    live: LiveColours,
    sinceMs: number,
  ): FleetVerdict {
    const canary = this.samples(wave, live, sinceMs);
    const old = this.samples(baseline, live, sinceMs);
    const { judge: judgeConfig, conditions, minRequests } = this.#analysis;
    const broken = wave
      .map((name) => ({ name, result: this.#conditions(name, live, sinceMs, old) }))
      .filter(({ result }) => result.status === "Fail");
    if (broken.length > 0)
      return {
        verdict: "Fail",
        score: 0,
        reason: broken.map(({ name, result }) => `${name}: ${result.detail}`).join("; "),
      };
    if (baseline.length === 0)
      return {
        verdict: "Inconclusive",
        score: null,
        reason: `no region is left on the old version to compare with; ${wave.join(", ")} met their conditions (${conditions.length})`,
      };
    const result = judge(canary, old, judgeConfig);
    const compared = `${wave.join(", ")} (new) against ${baseline.join(", ")} (old)`;
    const enough = summarise(canary).requests >= minRequests;
    return {
      verdict: result.verdict,
      score: result.score,
      reason: `${compared}: ${result.reason}${enough ? "" : `; fewer than ${minRequests} requests reached the new version`}`,
    };
  }

  #conditions(name: string, live: LiveColours, sinceMs: number, old: readonly ColourSample[]) {
    const colour = live[name] ?? "blue";
    const samples = this.samples([name], live, sinceMs);
    const { judge: judgeConfig, conditions, minRequests } = this.#analysis;
    return checkConditions({
      conditions,
      canary: { colour, window: summarise(samples), samples },
      baseline:
        old.length > 0 ? { colour: old[0]?.colour ?? colour, window: summarise(old), samples: old } : null,
      minRequests,
      significance: {
        confidence: judgeConfig.confidence,
        minSamples: judgeConfig.minSamples,
        minSampleRequests: judgeConfig.minSampleRequests,
      },
    });
  }
}
