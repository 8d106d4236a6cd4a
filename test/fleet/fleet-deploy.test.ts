/**
 * A fleet deploy across three regions on this machine, each a real cutover daemon with its own state and
 * ports, driven by the fleet runner over their admin APIs, under load sent to every region.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import { liveVersion } from "../../src/fleet/live-version.js";
import { silentLogger } from "../../src/log.js";
import { type LoadResult, steadyLoad } from "../helpers/steady-load.js";
import {
  deployWithin,
  failedRequests,
  fleetConfig,
  liveVersions,
  type RegionUnderTest,
  startRegions,
  stopRegions,
  usersOnBlue,
} from "./fleet-helpers.js";

const FLEET = `waves:
  - [a]
  - { regions: [b, c], maxParallel: 1 }
fleet: { bake: 2s, judgeInterval: 250ms }
analysis:
  minRequests: 20
  conditions:
    - { metric: errorRate, max: 0.05 }
  judge: { minSamples: 3 }
  report: { enabled: false }
`;

let regions: RegionUnderTest[] = [];
afterEach(async () => {
  await stopRegions(regions);
  regions = [];
});

describe("fleet deploy in waves", { timeout: 120_000 }, () => {
  it("deploys 2.0.0 to a, bakes and judges it against b and c, then deploys b and c: 0 failed requests", async () => {
    regions = await startRegions(["a", "b", "c"]);
    const fleet = await Fleet.open(loadConfig(fleetConfig(regions, FLEET)), silentLogger());
    const loads = regions.map((r) =>
      steadyLoad(`http://127.0.0.1:${r.project.listen}`, { ratePerSecond: 60, maxDurationMs: 60_000 }),
    );
    try {
      await usersOnBlue(fleet);
      const record = await deployWithin(fleet, "2.0.0");
      expect(record.phase, record.reason).toBe("Healthy");
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "passed"]);
      // Wave 1 was judged against the regions still on 1.0.0; wave 2 had none left to compare with.
      expect(record.waves[0]?.verdict?.reason).toMatch(/a \(new\) against b, c \(old\)/);
      expect(record.waves[0]?.verdict?.verdict).not.toBe("Fail");
      expect(Object.values(record.regions).map((r) => r.state)).toEqual(["switched", "switched", "switched"]);
      expect(await liveVersions(fleet)).toEqual({ a: "2.0.0", b: "2.0.0", c: "2.0.0" });
      expect(fleet.store.history().at(-1)?.id).toBe(record.id);
    } finally {
      const results = await Promise.all(loads.map((l) => l.stop()));
      await fleet.close();
      for (const result of results) {
        expect(result.sent).toBeGreaterThan(100);
        expect(failedRequests(result)).toBe(0);
      }
    }
  });

  it("halts in wave 2 when b's new version answers 10% errors: a and b go back, c never switches", async () => {
    regions = await startRegions(["a", "b", "c"], { b: { "2.0.0": { ERROR_RATIO: "0.1" } } });
    const fleet = await Fleet.open(loadConfig(fleetConfig(regions, FLEET)), silentLogger());
    const loads = regions.map((r) =>
      steadyLoad(`http://127.0.0.1:${r.project.listen}`, { ratePerSecond: 60, maxDurationMs: 60_000 }),
    );
    try {
      await usersOnBlue(fleet);
      const record = await deployWithin(fleet, "2.0.0");
      expect(record.phase).toBe("Aborted");
      expect(record.reason).toMatch(/wave 2: b failed/);
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "failed"]);
      expect(record.regions.a?.state).toBe("rolled-back");
      expect(record.regions.b?.state).toBe("failed");
      expect(record.regions.c?.state).toBe("pending");
      expect(await liveVersions(fleet)).toEqual({ a: "1.0.0", b: "1.0.0", c: "1.0.0" });
    } finally {
      const [a, b, c] = await Promise.all(loads.map((l) => l.stop()));
      await fleet.close();
      // Only b's bad version failed requests (its own 500s, before its analysis sent it back); a and c none.
      expect(failedRequests(a as LoadResult)).toBe(0);
      expect(failedRequests(c as LoadResult)).toBe(0);
      const bad = failedRequests(b as LoadResult);
      expect(bad).toBeGreaterThan(0);
      expect((b as LoadResult).failures).toEqual([]);
      console.log(
        `b's 2.0.0 answered ${bad} of ${(b as LoadResult).sent} requests with 500 before it was judged`,
      );
    }
  });
});
