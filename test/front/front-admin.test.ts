/**
 * The front's admin API and the fleet runner's client of it: bearer token, drain and restore, unknown
 * regions, metrics, the drained list kept across a restart, restore waiting for health.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CutoverError } from "../../src/errors.js";
import { BuiltinFrontClient, frontClientFor } from "../../src/front/builtin-front-client.js";
import { REGION_HEADER } from "../../src/front/front-response-headers.js";
import type { FrontRegionState } from "../../src/front/global-front.js";
import { eventually } from "../helpers/eventually.js";
import {
  adminCall,
  frontConfig,
  type RegionStandIn,
  regionConfig,
  startRegion,
  startTestFront,
  type TestFront,
} from "./front-fixtures.js";

const fronts: TestFront[] = [];
const regions: RegionStandIn[] = [];
afterEach(async () => {
  await Promise.all(fronts.splice(0).map((f) => f.close()));
  await Promise.all(regions.splice(0).map((r) => r.kill()));
});

async function twoRegions(
  stateDir?: string,
): Promise<{ front: TestFront; eu: RegionStandIn; us: RegionStandIn }> {
  const [eu, us] = [await startRegion("eu"), await startRegion("us")];
  regions.push(eu, us);
  const front = await startTestFront(
    [regionConfig("eu", eu.url), regionConfig("us", us.url)],
    stateDir === undefined ? {} : { stateDir },
  );
  fronts.push(front);
  await front.allHealthy();
  return { front, eu, us };
}

const clientOf = (front: TestFront) =>
  new BuiltinFrontClient({ url: front.adminUrl, token: front.token, pollMs: 20 });

describe("the global front's admin API", () => {
  it("answers 401 without the token or with a wrong one, and /health without one", async () => {
    const { front } = await twoRegions();
    expect(front.token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(front.stateDir, "token")).mode & 0o777).toBe(0o600);
    for (const response of [
      await fetch(`${front.adminUrl}/regions`),
      await adminCall(front, "POST", "/regions/eu/drain", "x".repeat(64)),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await response.json()) as { error: string }).error).toBe("UNAUTHORISED");
    }
    expect(front.state("eu").enabled).toBe(true);
    expect((await fetch(`${front.adminUrl}/health`)).status).toBe(200);
  });

  it("lists the regions, drains and restores one, and answers 404 for an unknown region", async () => {
    const { front } = await twoRegions();
    const listed = (await (await adminCall(front, "GET", "/regions")).json()) as FrontRegionState[];
    expect(listed).toEqual([
      { region: "eu", enabled: true, healthy: true, priority: 1, weight: 1, detail: "HTTP 200" },
      { region: "us", enabled: true, healthy: true, priority: 2, weight: 1, detail: "HTTP 200" },
    ]);
    const drained = await adminCall(front, "POST", "/regions/eu/drain");
    expect(await drained.json()).toMatchObject({ region: "eu", enabled: false, healthy: true });
    expect((await fetch(front.url)).headers.get(REGION_HEADER)).toBe("us");
    expect(await (await adminCall(front, "POST", "/regions/eu/restore")).json()).toMatchObject({
      enabled: true,
    });
    expect((await fetch(front.url)).headers.get(REGION_HEADER)).toBe("eu");

    const unknown = await adminCall(front, "POST", "/regions/mars/drain");
    expect(unknown.status).toBe(404);
    const body = (await unknown.json()) as { error: string; message: string };
    expect(body.error).toBe("UNKNOWN_REGION");
    expect(body.message).toMatch(/no region "mars"; its regions are "eu", "us"/);
    expect((await adminCall(front, "GET", "/regions/eu/drain")).status).toBe(405);
    expect((await adminCall(front, "GET", "/nowhere")).status).toBe(404);
  });

  it("counts requests per region and outcome, and shows each region's health in /metrics", async () => {
    const { front } = await twoRegions();
    for (let i = 0; i < 3; i++) await (await fetch(front.url)).text();
    const text = await (await adminCall(front, "GET", "/metrics")).text();
    expect(text).toMatch(/cutover_front_requests_total\{region="eu",outcome="answered"\} 3/);
    expect(text).toMatch(/cutover_front_region_healthy\{region="us"\} 1/);
    expect(text).toMatch(/cutover_front_region_enabled\{region="eu"\} 1/);
  });

  it("keeps a drained region out after the front restarts", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "cutover-front-"));
    const first = await twoRegions(stateDir);
    await clientOf(first.front).drain("eu");
    expect(JSON.parse(readFileSync(join(stateDir, "regions.json"), "utf8"))).toEqual({ disabled: ["eu"] });
    await first.front.close();
    const again = await startTestFront([regionConfig("eu", first.eu.url), regionConfig("us", first.us.url)], {
      stateDir,
    });
    fronts.push(again);
    expect(again.state("eu").enabled).toBe(false);
    expect(again.token).toBe(first.front.token);
    await again.allHealthy();
    for (let i = 0; i < 3; i++) expect((await fetch(again.url)).headers.get(REGION_HEADER)).toBe("us");
    expect(first.eu.requests).toBe(0);
    await clientOf(again).restore("eu");
    expect(JSON.parse(readFileSync(join(stateDir, "regions.json"), "utf8"))).toEqual({ disabled: [] });
  });
});

describe("the builtin front client", () => {
  it("restores a region only once the front finds it healthy", async () => {
    const { front, us } = await twoRegions();
    const client = clientOf(front);
    await client.drain("us");
    expect(front.state("us").enabled).toBe(false);
    us.setHealthy(false);
    // Probing goes on while a region is drained: the front knows it is failing before anyone restores it.
    await eventually("us is found unhealthy", () => front.state("us").healthy === false);
    await expect(client.restore("us", AbortSignal.timeout(300))).rejects.toThrow(/aborted due to timeout/);
    expect(front.state("us")).toMatchObject({ enabled: true, healthy: false });

    let healthyAt = 0;
    const restored = client.restore("us").then(() => performance.now());
    await eventually("the front has been asked to restore us", () => front.state("us").enabled);
    us.setHealthy(true);
    healthyAt = performance.now();
    expect(await restored).toBeGreaterThan(healthyAt);
    expect(front.state("us")).toMatchObject({ enabled: true, healthy: true });
  });

  it("rejects an unknown region and an unreachable front with errors that say what to do", async () => {
    const { front } = await twoRegions();
    const unknown = await clientOf(front)
      .restore("mars")
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(CutoverError);
    expect((unknown as CutoverError).code).toBe("UNKNOWN_REGION");
    await front.close();
    const gone = await clientOf(front)
      .status()
      .catch((error: unknown) => error);
    expect((gone as CutoverError).code).toBe("FRONT_UNREACHABLE");
    expect((gone as CutoverError).message).toMatch(/start it with `cutover global`/);
  });

  it("finds the front's address and token from the config, or says where the token should be", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "cutover-config-"));
    const config = frontConfig({ admin: { host: "0.0.0.0", port: 7999 } });
    const missing = (() => {
      try {
        return frontClientFor(config, stateDir);
      } catch (error) {
        return error as CutoverError;
      }
    })();
    expect((missing as CutoverError).code).toBe("NO_FRONT_TOKEN");
    expect((missing as CutoverError).message).toMatch(
      /global-front\/token does not exist; start the front with `cutover global`/,
    );
    mkdirSync(join(stateDir, "global-front"));
    writeFileSync(join(stateDir, "global-front", "token"), `${"a".repeat(64)}\n`);
    expect(frontClientFor(config, stateDir).kind).toBe("builtin");
    const { front } = await twoRegions();
    const viaConfig = frontClientFor(frontConfig({ url: front.adminUrl, token: front.token }), stateDir);
    expect((await viaConfig.status()).map((s) => s.region)).toEqual(["eu", "us"]);
  });
});
