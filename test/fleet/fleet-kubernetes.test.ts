/**
 * A fleet of two Kubernetes regions, each its own cluster (a stand-in API server with real pods: the demo
 * app as local processes behind a kube-proxy stand-in), deployed in waves by the fleet runner with an engine
 * per region in this process, each reaching its cluster through its own kubeconfig file, as users' do.
 * The same halt semantics as the local fleet (fleet-deploy.test.ts): a region that fails halts the fleet
 * and every region the deploy switched goes back.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/load.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import { silentLogger } from "../../src/log.js";
import { type LoadResult, type SteadyLoad, steadyLoad } from "../helpers/steady-load.js";
import {
  type ClusterFixture,
  replicasOf,
  selectorOf,
  startCluster,
  versionsThrough,
} from "../kubernetes/cluster-fixture.js";
import type { PodEnv } from "../kubernetes/stand-in/process-kubelet.js";
import { deployWithin, failedRequests, liveVersions, usersOnBlue } from "./fleet-helpers.js";

const REGIONS = ["eu", "us"] as const;
type RegionName = (typeof REGIONS)[number];

/**
 * Each region judges its own new colour after the switch (errors above 5% fail it) on its pods' /metrics,
 * read through its API server's pod proxy; the fleet judges the wave against the region still on 1.0.0.
 */
const ANALYSIS = {
  // Only users' requests: the kubelet's probes of /health would count as traffic too.
  source: { type: "scrape", labels: { path: "/" } },
  interval: "500ms",
  count: 6,
  lookback: "2s",
  minRequests: 20,
  preSwitch: false,
  conditions: [{ metric: "errorRate", max: 0.05 }],
  // Errors only: on a shared 2-core machine a colour just started is slower for a while, which is no verdict.
  judge: { minSamples: 3, metrics: [{ metric: "errorRate", critical: true }] },
  report: { enabled: false },
};

let clusters: Partial<Record<RegionName, ClusterFixture>> = {};
let loads: SteadyLoad[] = [];
afterEach(async () => {
  await Promise.allSettled(loads.map((l) => l.stop()));
  await Promise.allSettled(Object.values(clusters).map((c) => c.close()));
  clusters = {};
  loads = [];
});

/** Two clusters, each with blue serving 1.0.0 behind the active Service (one replica a colour). */
async function startClusters(
  env: Partial<Record<RegionName, PodEnv>> = {},
): Promise<Record<RegionName, ClusterFixture>> {
  // Each kept as soon as it runs, so afterEach closes it even when the other failed to start.
  await Promise.all(
    REGIONS.map(async (name) => {
      const podEnv = env[name];
      clusters[name] = await startCluster({
        pods: "processes",
        replicas: 1,
        ...(podEnv ? { env: podEnv } : {}),
      });
    }),
  );
  return clusters as Record<RegionName, ClusterFixture>;
}

/**
 * The fleet's cutover.yaml, waves [eu], [us], in a folder of its own with each region's kubeconfig file
 * beside it (relative paths, resolved against cutover.yaml). No switch probe and no smoke check: their
 * addresses are each cluster's own, and a region cannot override them (regions[].kubernetes has only
 * context, namespace and kubeconfig).
 */
function fleetYaml(kubeconfigs: Record<RegionName, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-fleet-k8s-"));
  for (const name of REGIONS) copyFileSync(kubeconfigs[name], join(dir, `${name}.kubeconfig`));
  const config = {
    service: "shop",
    version: "1.0.0",
    platform: "kubernetes",
    replicas: 1,
    start: { stopGrace: "5s" },
    health: { path: "/health", interval: "1s", timeout: "1s", startupGrace: "30s" },
    // A short scaleDownDelay: Fleet.close() waits for the scale-downs each region's engine scheduled.
    deploy: { readyTimeout: "8s", scaleDownDelay: "1s" },
    kubernetes: { namespace: "shop", image: "registry.example.com/shop:{version}" },
    regions: REGIONS.map((name) => ({ name, kubernetes: { kubeconfig: `${name}.kubeconfig` } })),
    waves: [["eu"], ["us"]],
    fleet: { bake: "2s", judgeInterval: "500ms" },
    analysis: ANALYSIS,
  };
  const file = join(dir, "cutover.yaml");
  writeFileSync(file, stringify(config));
  return file;
}

function kubeconfigsOf(c: Record<RegionName, ClusterFixture>): Record<RegionName, string> {
  return { eu: c.eu.standIn.kubeconfig(), us: c.us.standIn.kubeconfig() };
}

// Two stand-in clusters, each deploy a rollout of real pod processes, two waves with a bake between: about
// 30 s a test on a quiet machine, nearly 60 s when the suite's other files share the 2 cores, and 80 s beside
// four CPU hogs (README, Development), where a 30 s deadline on the deploy alone was missed once.
// A deploy gets DEPLOY_MS (a hang still fails with the record's reasons), the test 150 s.
const DEPLOY_MS = 90_000;

/** Users of each region, through its cluster's active Service, each request on a new connection. */
function loadOn(c: Record<RegionName, ClusterFixture>): Record<RegionName, SteadyLoad> {
  const on = (name: RegionName) =>
    steadyLoad(`http://${c[name].active.host}:${c[name].active.port}`, {
      ratePerSecond: 40,
      maxDurationMs: DEPLOY_MS + 30_000, // users through the whole deploy, however long it takes
      freshConnections: true,
    });
  const started = { eu: on("eu"), us: on("us") };
  loads = Object.values(started);
  return started;
}

describe("fleet of Kubernetes regions", { timeout: 150_000 }, () => {
  it("deploys 2.0.0 to eu, bakes and judges it against us, then deploys us: both Services select green", async () => {
    const c = await startClusters();
    const fleet = await Fleet.open(loadConfig(fleetYaml(kubeconfigsOf(c))), silentLogger());
    const load = loadOn(c);
    let closed = false;
    try {
      // Each region is named by the cluster its own kubeconfig reaches.
      expect(fleet.regions.map((r) => r.where)).toEqual(
        REGIONS.map((name) => `kubernetes context stand-in (${c[name].standIn.url}), namespace shop`),
      );
      await usersOnBlue(fleet, 100);
      const record = await deployWithin(fleet, "2.0.0", DEPLOY_MS);
      expect(record.phase, record.reason).toBe("Healthy");
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "passed"]);
      // Wave 1 was judged against us, still on 1.0.0; wave 2 had no region left to compare with.
      expect(record.waves[0]?.verdict?.reason).toMatch(/eu \(new\) against us \(old\)/);
      expect(record.waves[0]?.verdict?.verdict).not.toBe("Fail");
      expect(record.waves[1]?.verdict?.reason).toMatch(/no region is left on the old version/);
      expect(Object.values(record.regions).map((r) => [r.name, r.state])).toEqual([
        ["eu", "switched"],
        ["us", "switched"],
      ]);
      expect(await liveVersions(fleet)).toEqual({ eu: "2.0.0", us: "2.0.0" });
      for (const name of REGIONS) {
        const { standIn, active } = c[name];
        expect(selectorOf(standIn, "shop")).toEqual({ app: "shop", version: "green" });
        standIn.catchUpServices();
        expect(new Set(await versionsThrough(active, 4))).toEqual(new Set(["2.0.0"]));
      }
      expect(fleet.store.history().at(-1)?.id).toBe(record.id);
      // close() waits for each region's scheduled scale-down of blue (scaleDownDelay 1s), then ends.
      await fleet.close();
      closed = true;
      for (const name of REGIONS) expect(replicasOf(c[name].standIn, "deployments", "shop-blue")).toBe(0);
    } finally {
      const results = await Promise.all([load.eu.stop(), load.us.stop()]);
      if (!closed) await fleet.close();
      for (const result of results) {
        expect(result.sent).toBeGreaterThan(100);
        expect(failedRequests(result)).toBe(0);
      }
    }
  });

  it("halts in wave 2 when us's 2.0.0 answers 20% errors: us goes back by itself, eu is rolled back to blue", async () => {
    const c = await startClusters({
      us: ({ version }) => (version === "2.0.0" ? { ERROR_RATIO: "0.2" } : {}),
    });
    const fleet = await Fleet.open(loadConfig(fleetYaml(kubeconfigsOf(c))), silentLogger());
    const load = loadOn(c);
    try {
      await usersOnBlue(fleet, 100);
      const record = await deployWithin(fleet, "2.0.0", DEPLOY_MS);
      expect(record.phase).toBe("Aborted");
      expect(record.reason).toMatch(/wave 2: us failed: .*errorRate/);
      expect(record.waves.map((w) => w.state)).toEqual(["passed", "failed"]);
      // eu went back to blue; with scaleDownDelay 1s blue was already scaled down during the bake, so its
      // rollback started it again (a warm one needs a scaleDownDelay longer than the rest of the fleet).
      expect(record.regions.eu?.state).toBe("rolled-back");
      expect(record.regions.eu?.reason).toMatch(/sent back to 1\.0\.0: wave 2: us failed/);
      expect(record.regions.us?.state).toBe("failed");
      expect(await liveVersions(fleet)).toEqual({ eu: "1.0.0", us: "1.0.0" });
      for (const name of REGIONS) {
        const { standIn, active } = c[name];
        expect(selectorOf(standIn, "shop")).toEqual({ app: "shop", version: "blue" });
        standIn.catchUpServices();
        expect(new Set(await versionsThrough(active, 4))).toEqual(new Set(["1.0.0"]));
      }
    } finally {
      const [eu, us] = await Promise.all([load.eu.stop(), load.us.stop()]);
      await fleet.close();
      // Only us's bad version failed requests (its own 500s, before its analysis sent it back); eu none.
      expect(failedRequests(eu as LoadResult)).toBe(0);
      expect((us as LoadResult).failures).toEqual([]);
      expect(failedRequests(us as LoadResult)).toBeGreaterThan(0);
    }
  });

  it("refuses to deploy when us's cluster does not answer: no region is touched, status still shows eu", async () => {
    const eu = await startCluster();
    clusters = { eu };
    const down = join(mkdtempSync(join(tmpdir(), "cutover-fleet-k8s-down-")), "kubeconfig.yaml");
    const closedPort = await freePort();
    writeFileSync(
      down,
      readFileSync(eu.standIn.kubeconfig(), "utf8").replace(eu.standIn.url, `http://127.0.0.1:${closedPort}`),
    );
    const fleet = await Fleet.open(
      loadConfig(fleetYaml({ eu: eu.standIn.kubeconfig(), us: down })),
      silentLogger(),
    );
    try {
      expect((await fleet.region("eu").control.status()).active).toBe("blue");
      await expect(fleet.region("us").control.status()).rejects.toThrow(
        /check that the cluster is reachable/,
      );
      const refused = await deployWithin(fleet, "2.0.0", DEPLOY_MS).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "REGION_NOT_READY" });
      expect((refused as Error).message).toMatch(
        new RegExp(
          `^no region was touched: us \\(kubernetes context stand-in \\(http://127\\.0\\.0\\.1:${closedPort}\\), namespace shop\\) did not answer: .*ECONNREFUSED`,
        ),
      );
      expect(selectorOf(eu.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
      expect((await fleet.region("eu").control.history()).length).toBe(0);
      expect(fleet.store.current()).toBeNull();
    } finally {
      await fleet.close();
    }
  });
});

/** A loopback port nothing listens on (taken, then let go). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
