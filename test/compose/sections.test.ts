/**
 * No section of cutover.yaml is accepted and ignored: for every top-level section and each platform, the
 * section either takes effect (shown here on the engine, the parts or the manifests the composition root
 * builds from it) or is refused at load with exit code 2, naming the field and what to write instead. A
 * new top-level section without a row here fails the first test.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { composeEngine } from "../../src/compose/compose-engine.js";
import { engineSettings } from "../../src/compose/engine-settings.js";
import { localParts } from "../../src/compose/local-parts.js";
import { type LoadedConfig, parseConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";
import { Fleet, fleetWaves } from "../../src/fleet/fleet-runner.js";
import { frontFor } from "../../src/fleet/front-for-config.js";
import { regionalConfig } from "../../src/fleet/regions-for-config.js";
import { silentLogger } from "../../src/log.js";
import { renderManifests } from "../../src/platforms/kubernetes/render-manifests.js";
import { createDataPlane } from "../../src/router/create-data-plane.js";
import { CLI, freePort } from "../helpers/project.js";
import { type ClusterFixture, startCluster } from "../kubernetes/cluster-fixture.js";

const PG = process.env.CUTOVER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const dir = mkdtempSync(join(tmpdir(), "cutover-sections-"));
mkdirSync(join(dir, "migrations"));

const BASE = { service: "shop", version: "1.0.0", replicas: 3 };
const LOCAL = { ...BASE, start: { command: "node server.js --port {port}" } };
const KUBE = {
  ...BASE,
  platform: "kubernetes",
  kubernetes: { namespace: "shop", image: "registry.example.com/shop:{version}" },
};
const ANALYSIS = {
  source: { type: "prometheus", url: "http://127.0.0.1:9" },
  interval: "1s",
  count: 3,
  conditions: [{ metric: "errorRate", max: 0.05 }],
};

const TOKEN = "0123456789abcdef0123456789abcdef";
const REGION_A = {
  name: "eu",
  admin: { url: "http://127.0.0.1:7101", token: TOKEN },
  endpoint: "http://127.0.0.1:8101",
};
/** A fleet of two local regions, each run by its own cutover daemon. */
const FLEET = {
  service: "shop",
  version: "1.0.0",
  regions: [
    REGION_A,
    {
      name: "us",
      admin: { url: "https://us.example.com:8079", token: TOKEN },
      endpoint: "https://us.example.com",
    },
  ],
  waves: [
    { regions: ["eu"], bake: "90s" },
    { regions: ["us"], bake: "1s", maxParallel: 1 },
  ],
};

const load = (config: object): LoadedConfig => parseConfig(stringify(config), join(dir, "cutover.yaml"));
/** The local platform with its router and replicas in this process. */
const inProcessParts = (loaded: LoadedConfig) =>
  localParts(loaded, silentLogger(), { dataPlane: createDataPlane(loaded, silentLogger()) });

/** What loading `config` says, as the CLI would exit. */
function refusal(config: object): { exitCode: number; message: string } {
  try {
    load(config);
  } catch (error) {
    if (error instanceof ConfigError) return { exitCode: error.exitCode, message: error.message };
    throw error;
  }
  throw new Error("the config was accepted");
}

type Section = keyof typeof configSchema.shape;

let cluster: ClusterFixture;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.close();
});

/** Kubernetes config for the stand-in, with `extra` merged in. */
const onCluster = (extra: object): LoadedConfig => {
  const base = cluster.loaded.config;
  return load({
    service: base.service,
    version: base.version,
    platform: "kubernetes",
    kubernetes: {
      namespace: base.kubernetes?.namespace,
      kubeconfig: base.kubernetes?.kubeconfig,
      image: base.kubernetes?.image,
    },
    ...extra,
  });
};

/** Each section, each platform: how it takes effect, or that it is refused. */
const SECTIONS: Record<
  Section,
  { local: () => Promise<void> | void; kubernetes: () => Promise<void> | void }
> = {
  service: {
    local: () => expect(engineSettings(load(LOCAL).config).service).toBe("shop"),
    kubernetes: () =>
      expect(renderManifests(load(KUBE).config).map((o) => o.metadata?.name)).toContain("shop-blue"),
  },
  version: {
    local: () =>
      expect(engineSettings(load({ ...LOCAL, version: "7.0.0" }).config).initialVersion).toBe("7.0.0"),
    kubernetes: () => {
      const deployment = renderManifests(load({ ...KUBE, version: "7.0.0" }).config).find(
        (o) => o.kind === "Deployment",
      );
      expect(JSON.stringify(deployment)).toContain("registry.example.com/shop:7.0.0");
    },
  },
  platform: {
    local: () => expect(inProcessParts(load(LOCAL)).platform.constructor.name).toBe("LocalPlatform"),
    kubernetes: async () => {
      const built = await cluster.engine();
      expect(built.platform.constructor.name).toBe("KubernetesPlatform");
    },
  },
  replicas: {
    local: () => expect(engineSettings(load(LOCAL).config).replicas).toBe(3),
    kubernetes: () => {
      const deployment = renderManifests(load(KUBE).config).find((o) => o.kind === "Deployment");
      expect(JSON.stringify(deployment)).toContain('"replicas":3');
    },
  },
  start: {
    local: () => expect(() => load({ ...BASE })).toThrow(/start\.command: is required/),
    kubernetes: () => {
      const refused = refusal({ ...KUBE, start: { command: "node server.js" } });
      expect(refused.exitCode).toBe(2);
      expect(refused.message).toMatch(
        /start\.command: on Kubernetes the container runs its image's own command/,
      );
      const rendered = renderManifests(
        load({ ...KUBE, start: { env: { LOG: "json" }, stopGrace: "20s" } }).config,
      );
      const text = JSON.stringify(rendered.find((o) => o.kind === "Deployment"));
      expect(text).toContain('"name":"LOG","value":"json"');
      expect(text).toContain('"terminationGracePeriodSeconds":20');
    },
  },
  health: {
    local: () => expect(load({ ...LOCAL, health: { path: "/ready" } }).config.health.path).toBe("/ready"),
    kubernetes: () => {
      const rendered = renderManifests(load({ ...KUBE, health: { path: "/ready" } }).config);
      expect(JSON.stringify(rendered.find((o) => o.kind === "Deployment"))).toContain('"path":"/ready"');
    },
  },
  router: {
    local: async () => {
      const [listen, preview] = [await freePort(), await freePort()];
      const router = { listen: `127.0.0.1:${listen}`, preview: `127.0.0.1:${preview}` };
      const parts = inProcessParts(load({ ...LOCAL, router }));
      await parts.router.start();
      try {
        expect(parts.router.address()).toEqual({ host: "127.0.0.1", port: listen });
        expect(parts.preview).toEqual({ host: "127.0.0.1", port: preview });
      } finally {
        await parts.router.close();
      }
      expect(engineSettings(load({ ...LOCAL, router: { drainTimeout: "7s" } }).config).drainTimeoutMs).toBe(
        7000,
      );
      expect(() => load({ ...LOCAL, router: { haproxy: { threads: 1 } } })).toThrow(
        /router\.haproxy: is read only with router\.dataPlane: haproxy/,
      );
      // router.warmConnections reaches the built-in router (test/router/warm-connections.test.ts); HAProxy refuses it.
      expect(load({ ...LOCAL, router: { warmConnections: 4 } }).config.router.warmConnections).toBe(4);
      expect(() => load({ ...LOCAL, router: { warmConnections: 4, dataPlane: "haproxy" } })).toThrow(
        /router\.warmConnections: is read only by the built-in router/,
      );
      // router.retry reaches the built-in router (test/router/retry.test.ts shows what it does); HAProxy refuses it.
      const retry = { idempotencyHeader: "X-Idempotent", maxBodyBytes: 1024 };
      expect(load({ ...LOCAL, router: { retry } }).config.router.retry).toEqual({
        idempotencyHeader: "x-idempotent",
        maxBodyBytes: 1024,
      });
      expect(() => load({ ...LOCAL, router: { retry, dataPlane: "haproxy" } })).toThrow(
        /router\.retry: is read only by the built-in router/,
      );
    },
    kubernetes: () => {
      for (const field of ["listen", "admin", "sticky", "retry", "dataPlane", "drainTimeout"]) {
        const value = {
          listen: "127.0.0.1:1",
          admin: "127.0.0.1:2",
          sticky: true,
          retry: { idempotencyHeader: false },
          dataPlane: "haproxy",
          drainTimeout: "1s",
        }[field];
        const refused = refusal({ ...KUBE, router: { [field]: value } });
        expect(refused.exitCode).toBe(2);
        expect(refused.message).toContain(
          `router.${field}: the built-in router runs only with platform: local`,
        );
      }
      // router.preview is where smoke checks reach the preview Service when kubernetes.preview is not given.
      expect(load({ ...KUBE, router: { preview: "127.0.0.1:9999" } }).config.router.preview.port).toBe(9999);
    },
  },
  deploy: {
    local: () =>
      expect(engineSettings(load({ ...LOCAL, deploy: { readyTimeout: "9s" } }).config).readyTimeoutMs).toBe(
        9000,
      ),
    // A deploy on the stand-in keeps the old colour warm for exactly deploy.scaleDownDelay.
    kubernetes: async () => {
      const built = await cluster.engine({ loaded: onCluster({ deploy: { scaleDownDelay: "45s" } }) });
      const record = await (await built.engine.deploy("2.0.0")).done;
      expect(record.phase, record.reason).toBe("Healthy");
      const warmFor = Date.parse(built.engine.status().colours.blue.scaleDownAt ?? "") - Date.now();
      expect(warmFor).toBeGreaterThan(35_000);
      expect(warmFor).toBeLessThanOrEqual(45_000);
    },
  },
  database: {
    local: async () => {
      const loaded = load({ ...LOCAL, database: { url: PG }, stateDir: mkdtempSync(join(dir, "state-")) });
      const composed = await composeEngine(loaded, inProcessParts(loaded), silentLogger());
      try {
        expect(composed.migrator).not.toBeNull();
      } finally {
        await composed.close();
      }
    },
    kubernetes: async () => {
      const refused = refusal({ ...KUBE, database: { embedded: {} } });
      expect(refused.message).toMatch(
        /database\.embedded: the embedded database lives in the cutover process/,
      );
      const saved = process.env.DATABASE_URL;
      delete process.env.DATABASE_URL;
      try {
        expect(refusal({ ...KUBE, database: {} }).message).toMatch(
          /database\.url: is required on Kubernetes/,
        );
      } finally {
        if (saved !== undefined) process.env.DATABASE_URL = saved;
      }
      const built = await cluster.engine({ loaded: onCluster({ database: { url: PG } }) });
      expect(built.composed.migrator).not.toBeNull();
      const twice = { ...KUBE, database: { url: PG } };
      expect(
        refusal({ ...twice, kubernetes: { ...KUBE.kubernetes, env: [{ name: "DATABASE_URL", value: PG }] } })
          .message,
      ).toContain("kubernetes.env: DATABASE_URL is what cutover gives each colour from database.url");
    },
  },
  analysis: {
    local: async () => {
      const loaded = load({ ...LOCAL, analysis: ANALYSIS, stateDir: mkdtempSync(join(dir, "state-")) });
      const composed = await composeEngine(loaded, inProcessParts(loaded), silentLogger());
      try {
        expect(composed.analysis?.config.interval).toBe(1000);
      } finally {
        await composed.close();
      }
    },
    kubernetes: async () => {
      expect(refusal({ ...KUBE, analysis: { ...ANALYSIS, source: { type: "router" } } }).message).toMatch(
        /analysis\.source: type router reads the built-in router's metrics/,
      );
      expect(refusal({ ...KUBE, analysis: { ...ANALYSIS, mirror: { share: 0.1 } } }).message).toMatch(
        /analysis\.mirror: shadow traffic needs the built-in router/,
      );
      const built = await cluster.engine({ loaded: onCluster({ analysis: ANALYSIS }) });
      expect(built.composed.analysis?.config.interval).toBe(1000);
    },
  },
  kubernetes: {
    // On the local platform the section is what `cutover render kubernetes` renders; what no platform
    // can honour is refused on both.
    local: () => {
      expect(renderManifests(load({ ...LOCAL, kubernetes: KUBE.kubernetes }).config).length).toBeGreaterThan(
        3,
      );
      const gatekeeper = { ...KUBE.kubernetes, gatekeeper: { image: "registry.example.com/cutover:0.1.0" } };
      expect(refusal({ ...LOCAL, kubernetes: gatekeeper }).message).toContain(
        "kubernetes.gatekeeper: opens readiness gates, so it needs kubernetes.readinessGate: true",
      );
      expect(refusal({ ...LOCAL, kubernetes: { ...KUBE.kubernetes, preview: "nowhere" } }).message).toContain(
        "kubernetes.preview: expected host:port such as 127.0.0.1:8081",
      );
    },
    kubernetes: () =>
      expect(() => load({ ...BASE, platform: "kubernetes" })).toThrow(
        /kubernetes: is required with platform: kubernetes; add at least kubernetes\.image/,
      ),
  },
  logs: {
    // What the rotation does with it, on the replicas' logs and daemon.log: test/cli/log-rotation.test.ts.
    local: () =>
      expect(load({ ...LOCAL, logs: { maxSize: "1MiB", keep: 3 } }).config.logs).toEqual({
        maxSize: 1024 * 1024,
        keep: 3,
      }),
    kubernetes: () => {
      const refused = refusal({ ...KUBE, logs: { keep: 3 } });
      expect(refused.exitCode).toBe(2);
      expect(refused.message).toMatch(/logs: rotates .* which only platform: local writes/);
    },
  },
  regions: {
    // Each region is reached through its own cutover's admin API; only https off this machine.
    local: async () => {
      const fleet = await Fleet.open(load(FLEET), silentLogger());
      expect(fleet.regions.map((r) => r.where)).toEqual([
        "http://127.0.0.1:7101",
        "https://us.example.com:8079",
      ]);
      await fleet.close();
      const plain = refusal({
        ...FLEET,
        regions: [{ ...REGION_A, admin: { url: "http://eu.example.com:8079", token: TOKEN } }],
      });
      expect(plain.message).toMatch(/over https:\/\/ only/);
    },
    // Each region is a cluster: its context and namespace, its replicas and autoscaling, on the fleet's manifests.
    kubernetes: () => {
      const loaded = load({
        ...KUBE,
        regions: [
          {
            name: "eu",
            kubernetes: {
              context: "eu-ctx",
              namespace: "shop-eu",
              preview: "10.0.0.5:30081",
              switchProbe: { url: "http://10.0.0.5:30080/" },
            },
            replicas: 5,
            autoscaling: { maxReplicas: 9 },
          },
        ],
      });
      const eu = regionalConfig(
        loaded,
        loaded.config.regions?.[0] as NonNullable<typeof loaded.config.regions>[number],
      );
      expect(eu.config.kubernetes).toMatchObject({
        context: "eu-ctx",
        namespace: "shop-eu",
        preview: "10.0.0.5:30081",
        switchProbe: { url: "http://10.0.0.5:30080/" },
        autoscaling: { maxReplicas: 9 },
      });
      expect(eu.config.regions).toBeUndefined();
      const objects = renderManifests(eu.config);
      expect(JSON.stringify(objects.find((o) => o.kind === "Deployment"))).toContain('"replicas":5');
      expect(objects.every((o) => o.metadata?.namespace === "shop-eu")).toBe(true);
      expect(refusal({ ...KUBE, regions: [REGION_A] }).message).toMatch(
        /admin: is for a region run by a cutover daemon/,
      );
    },
  },
  waves: {
    local: () => {
      expect(fleetWaves(load(FLEET).config)).toEqual([
        { regions: ["eu"], bakeMs: 90_000 },
        { regions: ["us"], bakeMs: 1_000, maxParallel: 1 },
      ]);
      expect(refusal({ ...FLEET, waves: [["eu"]] }).message).toMatch(/"us" in no wave/);
    },
    kubernetes: () => {
      const loaded = load({ ...KUBE, regions: [{ name: "eu" }, { name: "us" }], waves: [["us", "eu"]] });
      expect(fleetWaves(loaded.config)).toEqual([{ regions: ["us", "eu"], bakeMs: 300_000 }]);
    },
  },
  fleet: {
    local: () => {
      const loaded = load({
        ...FLEET,
        waves: undefined,
        fleet: { bake: "2m", maxParallel: 3, stateDir: "fleet-state" },
      });
      expect(fleetWaves(loaded.config)).toEqual([
        { regions: ["eu"], bakeMs: 120_000, maxParallel: 3 },
        { regions: ["us"], bakeMs: 120_000, maxParallel: 3 },
      ]);
      expect(loaded.config.fleet.stateDir).toBe("fleet-state");
    },
    kubernetes: () => {
      const loaded = load({ ...KUBE, regions: [{ name: "eu" }], fleet: { judgeInterval: "3s" } });
      expect(loaded.config.fleet.judgeInterval).toBe(3_000);
    },
  },
  globalFront: {
    local: async () => {
      const front = await frontFor(load({ ...FLEET, globalFront: { type: "builtin", token: TOKEN } }));
      expect(front?.kind).toBe("builtin");
      await front?.close();
      expect(refusal({ ...LOCAL, globalFront: { type: "builtin" } }).message).toMatch(
        /globalFront: needs regions/,
      );
    },
    kubernetes: async () => {
      const regions = [{ name: "eu", endpoint: "https://eu.example.com" }];
      const azure = {
        type: "azure-traffic-manager",
        subscriptionId: "s",
        resourceGroup: "rg",
        profile: "shop",
      };
      const front = await frontFor(load({ ...KUBE, regions, globalFront: azure }));
      expect(front?.kind).toBe("azure-traffic-manager");
      await front?.close();
    },
  },
  stateDir: {
    local: () => expect(load({ ...LOCAL, stateDir: "state" }).stateDir).toBe(join(dir, "state")),
    // On Kubernetes the state is in the cluster; stateDir is where reports are written.
    kubernetes: () => expect(load({ ...KUBE, stateDir: "state" }).stateDir).toBe(join(dir, "state")),
  },
};

describe("every section of cutover.yaml takes effect or is refused", () => {
  it("has a row for every top-level section", () => {
    expect(Object.keys(SECTIONS).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
  for (const [section, platforms] of Object.entries(SECTIONS)) {
    it(`${section}, platform local`, () => platforms.local());
    it(`${section}, platform kubernetes`, () => platforms.kubernetes());
  }
  it("the CLI exits 2 and names the field", () => {
    const file = join(dir, "misfit.yaml");
    writeFileSync(file, stringify({ ...KUBE, router: { sticky: true } }));
    const run = spawnSync(process.execPath, [CLI, "--config", file, "status"], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("router.sticky: the built-in router runs only with platform: local");
  });
});
