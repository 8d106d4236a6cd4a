/**
 * Pre-switch analysis: the idle green gets a share of blue's live GETs as shadow traffic and is judged on
 * them before any user depends on it. Real demo-app processes behind the real Router (see analysis-setup).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ColourSampler } from "../../src/analysis/colour-sampler.js";
import { CutoverAnalysis } from "../../src/analysis/cutover-analysis.js";
import { RouterMetricSource } from "../../src/analysis/sources/router-metric-source.js";
import { analysisConfig } from "../../src/config/analysis-schema.js";
import { runCleanups, setup } from "../helpers/analysis-setup.js";
import { mainUrl } from "../helpers/start-router.js";
import { steadyLoad } from "../helpers/steady-load.js";

afterEach(runCleanups);

const context = (signal: AbortSignal) =>
  ({ deployId: "d1", version: "2.0.0", baseline: "blue", canary: "green", signal }) as const;

describe("pre-switch analysis on mirrored traffic", () => {
  it("fails a green with 5% errors before the switch, on copies of blue's live requests; users never see green", async () => {
    const s = await setup({ ERROR_RATIO: "0.05" });
    const load = steadyLoad(mainUrl(s.router), { ratePerSecond: 150, maxDurationMs: 30_000 });
    await sleep(1_000);
    const outcome = await s.analysis.preSwitch(context(AbortSignal.timeout(30_000)));
    expect(outcome?.verdict).toBe("Fail");
    expect(outcome?.summary).toMatch(/errorRate \d+\.\d% > max 1\.0% on green/);
    const mirrored = Number(
      /cutover_mirror_requests_total\{colour="green",status="200"\} (\d+)/.exec(
        await s.router.metrics(),
      )?.[1],
    );
    expect(mirrored).toBeGreaterThan(50);
    await sleep(300);
    const after = await s.router.metrics();
    await sleep(500);
    // Mirroring stopped with the analysis.
    expect(await s.router.metrics()).toContain(
      /cutover_mirror_requests_total\{colour="green",status="200"\} \d+/.exec(after)?.[0] ?? "none",
    );
    const result = await load.stop();
    expect([...result.colours.keys()]).toEqual(["blue"]);
    expect(result.statuses.get(500)).toBeUndefined();
    expect(s.router.active).toBe("blue");
  });

  it("answers null (nothing to judge) when mirroring is off", async () => {
    const sampler = new ColourSampler({
      source: new RouterMetricSource({ metrics: async () => "" }),
      intervalMs: 1_000,
    });
    const analysis = new CutoverAnalysis({
      config: analysisConfig({ mirror: { share: 0 } }),
      sampler,
      mirror: null,
    });
    expect(await analysis.preSwitch(context(AbortSignal.timeout(1_000)))).toBeNull();
    expect(sampler.running).toBe(false);
  });
});
