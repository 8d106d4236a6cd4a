/**
 * Issue 13's acceptance on this machine: three regions (three real cutover daemons, own state and ports)
 * behind cutover's global front, users' load sent through the front, a fleet deploy run by the runner.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BuiltinFrontConfig } from "../../src/config/fleet-schema.js";
import { loadConfig } from "../../src/config/load.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import { describeRegions } from "../../src/fleet/model/fleet-record.js";
import { type RunningFront, startGlobalFront } from "../../src/front/start-global-front.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../helpers/eventually.js";
import { freePort } from "../helpers/project.js";
import { type LoadResult, steadyLoad } from "../helpers/steady-load.js";
import {
  deployWithin,
  FLEET_ANALYSIS,
  failedRequests,
  fleetConfig,
  liveVersions,
  type RegionUnderTest,
  startRegions,
  stopRegions,
  usersOnBlue,
} from "./fleet-helpers.js";

const TOKEN = "front-token-0123456789abcdef0123";

let regions: RegionUnderTest[] = [];
let front: RunningFront | null = null;
afterEach(async () => {
  await front?.close();
  front = null;
  await stopRegions(regions);
  regions = [];
});

/** The fleet's cutover.yaml with a built-in front, and the front itself started from it (as `cutover global`). */
async function fleetBehindFront(options: {
  routing: "weighted" | "priority";
  drain: boolean;
  waves: string;
}) {
  const [listen, admin] = [await freePort(), await freePort()];
  const config = fleetConfig(
    regions,
    `${options.waves}
fleet: { bake: 2s, judgeInterval: 250ms }
${FLEET_ANALYSIS}globalFront:
  type: builtin
  listen: 127.0.0.1:${listen}
  admin: 127.0.0.1:${admin}
  token: ${TOKEN}
  routing: ${options.routing}
  drainDuringDeploy: ${options.drain}
  probe: { interval: 100ms, timeout: 500ms, failureThreshold: 3 }
`,
  );
  const loaded = loadConfig(config);
  front = await startGlobalFront({
    config: loaded.config.globalFront as BuiltinFrontConfig,
    regions: loaded.config.regions ?? [],
    healthPath: loaded.config.health.path,
    stateDir: mkdtempSync(join(tmpdir(), "cutover-front-")),
    logger: silentLogger(),
  });
  const running = front;
  await eventually(
    "the front sees every region healthy",
    () => running.states().every((s) => s.healthy === true),
    15_000,
  );
  return { loaded, url: `http://127.0.0.1:${listen}` };
}

/** What the failed requests of a load were: statuses, and the first few errors. */
function describeFailures(result: LoadResult): string {
  return `statuses ${JSON.stringify([...result.statuses])}; errors ${result.failures.slice(0, 3).join(" | ")}`;
}

describe("a fleet behind the global front", { timeout: 150_000 }, () => {
  it("waves [[a], [b, c]] deploy 2.0.0 under load through the front: 0 failed requests, every region on 2.0.0", async () => {
    regions = await startRegions(["a", "b", "c"], {}, { processes: true });
    const { loaded, url } = await fleetBehindFront({
      routing: "weighted",
      drain: false,
      waves: "waves: [[a], [b, c]]",
    });
    const fleet = await Fleet.open(loaded, silentLogger());
    const users = steadyLoad(url, { ratePerSecond: 180, maxDurationMs: 60_000 });
    try {
      await usersOnBlue(fleet);
      const record = await deployWithin(fleet, "2.0.0", 60_000);
      expect(record.phase, record.reason).toBe("Healthy");
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "passed"]);
      // Wave 1 was judged against the regions still on 1.0.0; wave 2 had none left to compare with.
      expect(record.waves[0]?.verdict?.reason).toMatch(/a \(new\) against b, c \(old\)/);
      expect(record.waves[0]?.verdict?.verdict).not.toBe("Fail");
      expect(record.waves[1]?.verdict?.reason).toMatch(/no region is left on the old version/);
      expect(Object.values(record.regions).map((r) => r.state)).toEqual(["switched", "switched", "switched"]);
      expect(await liveVersions(fleet)).toEqual({ a: "2.0.0", b: "2.0.0", c: "2.0.0" });
      expect(fleet.store.history().at(-1)?.id).toBe(record.id);
    } finally {
      const result = await users.stop();
      await fleet.close();
      expect(result.sent).toBeGreaterThan(500);
      expect(failedRequests(result), describeFailures(result)).toBe(0);
    }
  });

  it("b's 2.0.0 answers 10% errors: halted in wave 2, a and b back on 1.0.0, c never switched, no user sent to b's bad colour", async () => {
    regions = await startRegions(
      ["a", "b", "c"],
      { b: { "2.0.0": { ERROR_RATIO: "0.1" } } },
      { processes: true },
    );
    const { loaded, url } = await fleetBehindFront({
      routing: "weighted",
      drain: true,
      waves: "waves: [[a], { regions: [b, c], maxParallel: 1 }]",
    });
    const fleet = await Fleet.open(loaded, silentLogger());
    const users = steadyLoad(url, { ratePerSecond: 120, maxDurationMs: 60_000 });
    // A region drained from the front still gets its own synthetic checks (as a monitor would send them):
    // each region's analysis judges its new colour on those.
    const probes = regions.map((r) =>
      // Enough that each of b's own measurements (2 s) sees some 160 answers: 10% errors fail it at once.
      steadyLoad(`http://127.0.0.1:${r.project.listen}`, { ratePerSecond: 80, maxDurationMs: 60_000 }),
    );
    try {
      await usersOnBlue(fleet);
      const record = await deployWithin(fleet, "2.0.0", 60_000);
      expect(record.phase).toBe("Aborted");
      expect(record.reason, describeRegions(record)).toMatch(/wave 2: b failed/);
      expect(record.regions.a?.state).toBe("rolled-back");
      expect(record.regions.b?.state).toBe("failed");
      expect(record.regions.c?.state).toBe("pending");
      expect(await liveVersions(fleet)).toEqual({ a: "1.0.0", b: "1.0.0", c: "1.0.0" });
      // Every region the runner took out of the front is back in it.
      expect(front?.states().map((s) => [s.region, s.enabled])).toEqual([
        ["a", true],
        ["b", true],
        ["c", true],
      ]);
    } finally {
      const result = await users.stop();
      const [, b] = await Promise.all(probes.map((p) => p.stop()));
      await fleet.close();
      // Users came through the front, which had b out while its bad version was live: none of them failed.
      expect(result.sent).toBeGreaterThan(300);
      expect(failedRequests(result), describeFailures(result)).toBe(0);
      // The bad version's own answers reached only the synthetic checks sent to b directly, before b judged it.
      const bad = failedRequests(b as LoadResult);
      expect(bad).toBeGreaterThan(0);
      expect(bad).toBeLessThan(40);
      console.log(
        `b's 2.0.0 answered ${bad} of ${(b as LoadResult).sent} direct checks with 500 before its analysis sent it back`,
      );
    }
  });

  it("region a goes down (its daemon and data plane killed with -9, its replicas with them) under load: the front fails over to b within interval x failureThreshold", async () => {
    regions = await startRegions(["a", "b"], {}, { processes: true });
    const a = regions[0] as RegionUnderTest;
    const { url } = await fleetBehindFront({ routing: "priority", drain: false, waves: "" });
    const running = front as RunningFront;
    const users = steadyLoad(url, { ratePerSecond: 200, maxDurationMs: 30_000 });
    await eventually("some users were answered by a", () => running.states()[0]?.healthy === true);
    await new Promise((r) => setTimeout(r, 300));
    const downAt = Date.now();
    await a.kill();
    await eventually("the front marks a unhealthy", () => running.states()[0]?.healthy === false, 5_000);
    const detectedMs = Date.now() - downAt;
    await new Promise((r) => setTimeout(r, 500));
    const result = await users.stop();
    console.log(
      `a down: marked unhealthy after ${detectedMs} ms; ${failedRequests(result)} of ${result.sent} requests failed`,
    );
    // 100 ms x 3 failures, plus one probe timeout's worth of slack.
    expect(detectedMs).toBeLessThan(100 * 3 + 500 + 1_000);
    // Requests the dead region refused or dropped are sent on to b (GETs): the failed ones are bounded.
    expect(failedRequests(result)).toBeLessThanOrEqual(5);
    expect(result.sent).toBeGreaterThan(150);
  });
});
