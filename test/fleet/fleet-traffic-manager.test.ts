/**
 * A fleet deploy behind Azure Traffic Manager (issue 13): three regions, each a real cutover daemon whose
 * router listens on a loopback address of its own and one port shared by all (a profile probes every endpoint
 * on one port); the Traffic Manager stand-in (test/azure: real HTTPS, the ARM paths the SDK calls, each
 * endpoint's endpointMonitorStatus from real probes of its router) holds the profile rendered from the fleet's
 * cutover.yaml; the runner drains and restores regions through AzureTrafficManagerFront and the real SDK.
 * Traffic Manager is DNS: there is no front to send load through, so load goes to each region directly, and
 * each region's own analysis judges its new colour on it.
 */
import { type Profile, TrafficManagerManagementClient } from "@azure/arm-trafficmanager";
import type { TokenCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import type { AzureFrontConfig, RegionConfig } from "../../src/config/fleet-schema.js";
import { type LoadedConfig, loadConfig } from "../../src/config/load.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import { describeRegions, type FleetRecord } from "../../src/fleet/model/fleet-record.js";
import {
  type AzureTrafficManagerFront,
  createAzureTrafficManagerFront,
} from "../../src/front/azure/azure-traffic-manager-front.js";
import { renderTrafficManager } from "../../src/front/azure/render-traffic-manager.js";
import { silentLogger } from "../../src/log.js";
import { TrafficManagerStandIn } from "../azure/traffic-manager-stand-in.js";
import { PROFILE, RESOURCE_GROUP, SUBSCRIPTION } from "../front/azure/fleet-config.js";
import { type LoadResult, type SteadyLoad, steadyLoad } from "../helpers/steady-load.js";
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

const TOKEN = "stand-in-token-for-the-fleet-runner";
const credential: TokenCredential = {
  getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

// Wave 2 without maxParallel: b and c are out of the profile at the same time, so the runner must put back
// two regions it drained concurrently, and in the halt c (switched alongside the failing b) is both rolled
// back and restored. It also keeps the file within its time budget.
const FLEET = `waves: [[a], [b, c]]
fleet: { bake: 1s, judgeInterval: 250ms }
${FLEET_ANALYSIS}`;

let regions: RegionUnderTest[] = [];
let standIn: TrafficManagerStandIn | null = null;
afterEach(async () => {
  await standIn?.close();
  standIn = null;
  await stopRegions(regions);
  regions = [];
});

interface FleetBehindTrafficManager {
  readonly fleet: Fleet;
  readonly tm: AzureTrafficManagerFront;
  readonly stand: TrafficManagerStandIn;
  /** How many writes the stand-in had recorded once the profile was deployed. */
  readonly writesBefore: number;
}

/**
 * The stand-in started (probing every 100 ms), the fleet's cutover.yaml naming it, the rendered profile
 * deployed to it and seen Online in every region, and the fleet opened with the front the test holds.
 */
async function fleetBehindTrafficManager(): Promise<FleetBehindTrafficManager> {
  const stand = await TrafficManagerStandIn.start({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: RESOURCE_GROUP,
    tokens: [TOKEN],
    probeIntervalMs: 100,
    probeTimeoutMs: 500,
  });
  standIn = stand;
  const loaded = loadConfig(
    fleetConfig(
      regions,
      `${FLEET}globalFront:
  type: azure-traffic-manager
  subscriptionId: ${SUBSCRIPTION}
  resourceGroup: ${RESOURCE_GROUP}
  profile: ${PROFILE}
  armEndpoint: ${stand.url}
  dnsTtl: 1
  drainDuringDeploy: true
  probe: { interval: 10s, timeout: 5s }
`,
    ),
  );
  const { front, configs } = azureParts(loaded);
  await deployProfile(stand, loaded, front, configs);
  await Promise.all(regions.map((r) => stand.reached(r.name, "Online")));
  const tm = createAzureTrafficManagerFront(front, configs, { credential, pollMs: 50, ca: stand.ca });
  const fleet = await Fleet.open(loaded, silentLogger(), { front: tm });
  return { fleet, tm, stand, writesBefore: stand.writes.length };
}

function azureParts(loaded: LoadedConfig): { front: AzureFrontConfig; configs: readonly RegionConfig[] } {
  const { globalFront, regions: configs } = loaded.config;
  if (globalFront?.type !== "azure-traffic-manager" || !configs) throw new Error("not an Azure fleet config");
  return { front: globalFront, configs };
}

/** `cutover render traffic-manager`'s template, deployed as azure-traffic-manager-front.test.ts does. */
async function deployProfile(
  stand: TrafficManagerStandIn,
  loaded: LoadedConfig,
  front: AzureFrontConfig,
  configs: readonly RegionConfig[],
): Promise<void> {
  const { template } = renderTrafficManager({
    front,
    regions: configs,
    healthPath: loaded.config.health.path,
    file: loaded.file,
  });
  const [resource] = template.resources;
  const model: Profile = {
    location: resource.location,
    ...resource.properties,
    endpoints: resource.properties.endpoints.map(({ properties, ...e }) => ({ ...e, ...properties })),
  };
  const client = new TrafficManagerManagementClient(credential, SUBSCRIPTION, {
    endpoint: stand.url,
    tlsOptions: { ca: stand.ca },
  });
  await client.profiles.createOrUpdate(RESOURCE_GROUP, PROFILE, model);
}

interface EndpointWrite {
  readonly endpoint: string;
  readonly status: string;
  readonly at: number;
}

/** The endpointStatus PATCHes the runner sent, in order; every write since the profile was one of them. */
function endpointWrites(stand: TrafficManagerStandIn, from: number): EndpointWrite[] {
  const writes = stand.writes.slice(from);
  expect(writes.map((w) => [w.method, w.status])).toEqual(writes.map(() => ["PATCH", 200]));
  return writes.map((w) => ({
    endpoint: w.endpoint ?? "?",
    status: String((w.body as { properties?: { endpointStatus?: string } }).properties?.endpointStatus),
    at: w.at,
  }));
}

const pairs = (writes: readonly EndpointWrite[]) => writes.map((w) => `${w.endpoint} ${w.status}`);

function writeOf(writes: readonly EndpointWrite[], endpoint: string, status: string): EndpointWrite {
  const write = writes.find((w) => w.endpoint === endpoint && w.status === status);
  if (!write) throw new Error(`no ${status} write for ${endpoint}`);
  return write;
}

function loadOn(targets: readonly RegionUnderTest[]): SteadyLoad[] {
  return targets.map((r) => steadyLoad(r.url, { ratePerSecond: 60, maxDurationMs: 60_000 }));
}

async function frontStates(tm: AzureTrafficManagerFront): Promise<unknown[]> {
  return (await tm.status()).map((s) => [s.region, s.enabled, s.healthy, s.detail]);
}

const everyRegionIn = [
  ["a", true, true, "Online"],
  ["b", true, true, "Online"],
  ["c", true, true, "Online"],
];

describe("a fleet behind Azure Traffic Manager (the stand-in), drainDuringDeploy", {
  timeout: 60_000,
}, () => {
  it("disables each region's endpoint before its deploy and enables it after its wave's bake, wave by wave", async () => {
    regions = await startRegions(["a", "b", "c"], {}, { sharedPort: true });
    const { fleet, tm, stand, writesBefore } = await fleetBehindTrafficManager();
    const loads = loadOn(regions);
    try {
      await usersOnBlue(fleet);
      const record = await deployWithin(fleet, "2.0.0");
      expect(record.phase, record.reason).toBe("Healthy");
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "passed"]);
      const writes = endpointWrites(stand, writesBefore);
      console.log(`endpoint writes: ${pairs(writes).join(", ")}`);
      // Wave 1 out and back in; then wave 2's regions out (at once, in either order), back in after its bake
      // (at once too: fleet-deploy.ts puts a wave's regions back side by side, so either order).
      expect(pairs(writes.slice(0, 2))).toEqual(["a Disabled", "a Enabled"]);
      expect(pairs(writes.slice(2, 4)).sort()).toEqual(["b Disabled", "c Disabled"]);
      expect(pairs(writes.slice(4)).sort()).toEqual(["b Enabled", "c Enabled"]);
      for (const region of fleet.regions) await expectDrainedAroundItsDeploy(region, record, writes, stand);
      expect(await frontStates(tm)).toEqual(everyRegionIn);
      expect(await liveVersions(fleet)).toEqual({ a: "2.0.0", b: "2.0.0", c: "2.0.0" });
    } finally {
      const results = await Promise.all(loads.map((l) => l.stop()));
      await fleet.close();
      for (const result of results) {
        expect(result.sent).toBeGreaterThan(100);
        expect(failedRequests(result)).toBe(0);
      }
    }
  });

  it("halts in wave 2 when b's 2.0.0 fails its own analysis: every endpoint it disabled is enabled again", async () => {
    regions = await startRegions(
      ["a", "b", "c"],
      // 30% errors: b's own analysis fails it however busy the machine. At 10% a loaded machine once gave
      // b's analysis windows too small to fail; it passed, and the fleet's judge halted the wave instead.
      { b: { "2.0.0": { ERROR_RATIO: "0.3" } } },
      { sharedPort: true },
    );
    const { fleet, tm, stand, writesBefore } = await fleetBehindTrafficManager();
    const loads = loadOn(regions);
    try {
      await usersOnBlue(fleet);
      const record = await deployWithin(fleet, "2.0.0");
      expect(record.phase).toBe("Aborted");
      expect(record.reason, describeRegions(record)).toMatch(/wave 2: b failed/);
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "failed"]);
      expect(record.regions.a?.state).toBe("rolled-back");
      expect(record.regions.b?.state).toBe("failed");
      expect(record.regions.c?.state).toBe("rolled-back");
      const writes = endpointWrites(stand, writesBefore);
      console.log(`endpoint writes: ${pairs(writes).join(", ")}`);
      expect(pairs(writes.slice(0, 2))).toEqual(["a Disabled", "a Enabled"]);
      expect(pairs(writes.slice(2, 4)).sort()).toEqual(["b Disabled", "c Disabled"]);
      expect(pairs(writes.slice(4)).sort()).toEqual(["b Enabled", "c Enabled"]);
      // Put back after the halt: once every switched region was sent back and the record ended.
      const haltedAt = Date.parse(record.endedAt ?? "");
      for (const write of writes.slice(4)) expect(write.at).toBeGreaterThanOrEqual(haltedAt);
      expect(await frontStates(tm)).toEqual(everyRegionIn);
      expect(await liveVersions(fleet)).toEqual({ a: "1.0.0", b: "1.0.0", c: "1.0.0" });
    } finally {
      const [a, b, c] = await Promise.all(loads.map((l) => l.stop()));
      await fleet.close();
      expect(failedRequests(a as LoadResult)).toBe(0);
      expect(failedRequests(c as LoadResult)).toBe(0);
      expect(failedRequests(b as LoadResult)).toBeGreaterThan(0);
      expect((b as LoadResult).failures).toEqual([]);
    }
  });
});

/**
 * The region's own deploy started after Traffic Manager read its endpoint back Disabled and the DNS TTL (1 s)
 * had passed; its endpoint was enabled after its wave's bake ended, before the wave was recorded passed.
 */
async function expectDrainedAroundItsDeploy(
  region: Fleet["regions"][number],
  record: FleetRecord,
  writes: readonly EndpointWrite[],
  stand: TrafficManagerStandIn,
): Promise<void> {
  const deploy = (await region.control.status()).lastDeploy;
  expect(deploy?.id).toBe(record.regions[region.name]?.deployId);
  const deployStarted = Date.parse(deploy?.startedAt ?? "");
  const disabled = writeOf(writes, region.name, "Disabled");
  expect(deployStarted).toBeGreaterThanOrEqual(disabled.at + 1000);
  const readBack = stand.reads.find(
    (r) => r.endpoint === region.name && r.monitorStatus === "Disabled" && r.at >= disabled.at,
  );
  expect(readBack?.at).toBeLessThanOrEqual(deployStarted);
  const wave = record.waves.find((w) => w.regions.includes(region.name));
  const enabled = writeOf(writes, region.name, "Enabled");
  expect(enabled.at).toBeGreaterThanOrEqual(Date.parse(wave?.bakeEndsAt ?? ""));
  expect(enabled.at).toBeLessThanOrEqual(Date.parse(wave?.endedAt ?? ""));
}
