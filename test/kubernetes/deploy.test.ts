/**
 * Contract tests of the Kubernetes driver through the real Engine, against the stand-in API server
 * (test/kubernetes/stand-in/api-server.ts says how it follows the real one). Each test is one service on a
 * fresh stand-in, bootstrapped from the rendered manifests.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { StartedOperation } from "../../src/engine/engine-options.js";
import { DeployInProgressError } from "../../src/errors.js";
import { StaleStateError } from "../../src/platforms/kubernetes/annotation-lease.js";
import { eventually } from "../helpers/eventually.js";
import {
  type ClusterFixture,
  historyOf,
  readyPods,
  replicasOf,
  selectorOf,
  startCluster,
  versionsThrough,
} from "./cluster-fixture.js";
import type { JsonObject } from "./stand-in/json.js";

let cluster: ClusterFixture | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const annotations = (o: JsonObject | null) =>
  ((o?.metadata as JsonObject | undefined)?.annotations as JsonObject) ?? {};
const stateOf = (c: ClusterFixture) =>
  JSON.parse(String(annotations(c.standIn.get("services", "shop"))["cutover.dev/state"]));

describe("a deploy on Kubernetes through the engine", () => {
  it("applies the idle colour, waits for its rollout, smoke-checks it, switches the selector and confirms it", async () => {
    cluster = await startCluster({
      behaviour: ({ version }) => ({ readyAfterMs: version === "2.0.0" ? 800 : 40 }),
    });
    const { engine } = await cluster.engine();
    const record = await (await engine.deploy("2.0.0")).done;

    expect(record.phase).toBe("Healthy");
    expect(record.steps.map((s) => [s.name, s.state])).toEqual([
      ["migrate-expand", "skipped"],
      ["start-idle", "succeeded"],
      ["wait-healthy", "succeeded"],
      ["smoke-checks", "succeeded"],
      ["pre-analysis", "skipped"],
      ["promotion", "succeeded"],
      ["switch", "succeeded"],
      ["post-analysis", "skipped"],
    ]);
    const { standIn } = cluster;
    expect(selectorOf(standIn, "shop")).toEqual({ app: "shop", version: "green" });
    expect(selectorOf(standIn, "shop-preview")).toEqual({ app: "shop", version: "blue" });
    expect(new Set(await versionsThrough(cluster.active, 10))).toEqual(new Set(["2.0.0"]));
    const green = standIn.get("deployments", "shop-green")?.spec as JsonObject;
    const container = ((green.template as JsonObject).spec as JsonObject).containers as JsonObject[];
    expect(container[0]?.image).toBe("registry.example.com/shop:2.0.0");
    expect(container[0]?.env).toEqual(
      expect.arrayContaining([
        { name: "APP_VERSION", value: "2.0.0" },
        { name: "ENVIRONMENT", value: "green" },
      ]),
    );
    expect(green.replicas).toBe(2);

    // How it talked to the API server: server-side apply for the Deployment, a merge patch with the
    // resourceVersion it read for the selector, a watch for the rollout.
    const requests = standIn.server.requests;
    const apply = requests.find((r) => r.verb === "PATCH" && r.path.endsWith("/deployments/shop-green"));
    expect(apply).toMatchObject({
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: "cutover", force: "true" },
      status: 200,
    });
    const selectorPatch = requests.find(
      (r) =>
        r.path.endsWith("/services/shop") &&
        r.verb === "PATCH" &&
        JSON.stringify(r.body).includes('"selector"'),
    );
    expect(selectorPatch?.contentType).toBe("application/merge-patch+json");
    expect(
      String(
        ((selectorPatch?.body ?? {}) as { metadata?: { resourceVersion?: string } }).metadata
          ?.resourceVersion,
      ).length,
    ).toBeGreaterThan(0);
    expect(
      requests.some(
        (r) =>
          r.path.endsWith("/deployments") &&
          r.query.watch === "true" &&
          r.query.fieldSelector === "metadata.name=shop-green",
      ),
    ).toBe(true);

    // The state every runner reads, and the history.
    expect(stateOf(cluster)).toMatchObject({ active: "green", current: null, deploys: 1 });
    const history = historyOf(standIn);
    expect(history.map((r: { id: string; phase: string }) => [r.id, r.phase])).toEqual([["d1", "Healthy"]]);
  });

  it("aborts a rollout that exceeds its progress deadline: the active Service untouched, the idle colour scaled back", async () => {
    cluster = await startCluster({
      behaviour: ({ version }) => ({ readyAfterMs: version === "2.0.0" ? null : 40 }),
      kubernetes: { progressDeadlineSeconds: 1 },
    });
    const { engine } = await cluster.engine();
    const before = cluster.standIn.get("services", "shop");
    const record = await (await engine.deploy("2.0.0")).done;

    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /deployment "shop-green" exceeded its progress deadline; traffic stayed on blue \(1\.0\.0\)/,
    );
    expect(record.steps.find((s) => s.name === "wait-healthy")?.detail).toMatch(
      /shop-green-\w+-\w+ \(unready, 0 restarts\): ContainersNotReady/,
    );
    const { standIn } = cluster;
    expect(selectorOf(standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(standIn.get("services", "shop")?.spec as JsonObject).toEqual(before?.spec);
    const selectorWrites = standIn.server.requests.filter(
      (r) => r.path.endsWith("/services/shop") && JSON.stringify(r.body ?? "").includes('"selector"'),
    );
    expect(selectorWrites).toEqual([]);
    expect(replicasOf(standIn, "deployments", "shop-green")).toBe(0);
    await eventually("green's pods gone", () =>
      standIn.server.store
        .list("pods", standIn.namespace)
        .every((p) => !String((p.metadata as JsonObject).name).startsWith("shop-green")),
    );
    expect(new Set(await versionsThrough(cluster.active, 5))).toEqual(new Set(["1.0.0"]));
    expect(readyPods(standIn, "blue")).toBe(2);
  });
});

describe("after the switch", () => {
  it("scales the old colour to the warm count after the delay, and lowers its HPA minimum so it stays there", async () => {
    cluster = await startCluster({
      replicas: 2,
      kubernetes: { warmReplicas: 1, autoscaling: { minReplicas: 2, maxReplicas: 4 } },
      deploy: { scaleDownDelay: "400ms" },
    });
    const { standIn } = cluster;
    const built = await cluster.engine();
    const record = await (await built.engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Healthy");
    expect(replicasOf(standIn, "deployments", "shop-blue")).toBe(2); // still warm for an instant rollback
    expect(built.engine.status().colours.blue.scaleDownAt).not.toBeNull();

    await built.settle();
    expect(replicasOf(standIn, "deployments", "shop-blue")).toBe(1);
    expect(replicasOf(standIn, "horizontalpodautoscalers", "shop-blue", "minReplicas")).toBe(1);
    expect(replicasOf(standIn, "horizontalpodautoscalers", "shop-green", "minReplicas")).toBe(2);
    // Several HPA syncs later (every 100 ms here) the HPA has not pushed blue back up to its old minimum.
    await sleep(500);
    expect(replicasOf(standIn, "deployments", "shop-blue")).toBe(1);
    await eventually(
      "one blue pod left",
      () => readyPods(standIn, "blue") === 1 && podCount(cluster as ClusterFixture, "shop-blue") === 1,
    );
    const scale = standIn.server.requests.find((r) => r.path.endsWith("/deployments/shop-blue/scale"));
    expect(scale).toMatchObject({
      verb: "PATCH",
      contentType: "application/merge-patch+json",
      body: { spec: { replicas: 1 } },
      status: 200,
    });
  });

  it("a rollback from another process starts the scaled-down colour again before it switches back", async () => {
    cluster = await startCluster();
    const first = await cluster.engine();
    expect((await (await first.engine.deploy("2.0.0")).done).phase).toBe("Healthy");
    await first.settle();
    expect(replicasOf(cluster.standIn, "deployments", "shop-blue")).toBe(0);

    const second = await cluster.engine(); // a new `cutover rollback`, reading the state from the cluster
    expect(second.engine.active).toBe("green");
    const record = await (await second.engine.rollback()).done;
    expect(record.phase).toBe("Healthy");
    expect(record.id).toBe("r2");
    expect(record.steps[0]?.detail).toMatch(/blue was cold: started 2 replica\(s\) of 1\.0\.0/);
    expect(selectorOf(cluster.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(new Set(await versionsThrough(cluster.active, 5))).toEqual(new Set(["1.0.0"]));
  });
});

describe("concurrency", () => {
  it("meets a 409 on the selector patch, reads the Service again and retries without losing the other change", async () => {
    cluster = await startCluster();
    const { standIn } = cluster;
    let injected = 0;
    standIn.server.onRequest((request, target) => {
      const touchesSelector =
        request.verb === "PATCH" &&
        target.name === "shop" &&
        target.info.plural === "services" &&
        JSON.stringify(request.body).includes('"selector"');
      if (!touchesSelector || injected > 0) return;
      injected += 1;
      // Someone annotates the Service between cutover's read and its write.
      standIn.server.write("services", standIn.namespace, "shop", "kubectl-annotate", (s) => {
        ((s.metadata as JsonObject).annotations as JsonObject)["team.example.com/owner"] = "payments";
      });
    });
    const { engine } = await cluster.engine();
    const record = await (await engine.deploy("2.0.0")).done;

    expect(record.phase).toBe("Healthy");
    const attempts = standIn.server.requests.filter(
      (r) =>
        r.verb === "PATCH" &&
        r.path.endsWith("/services/shop") &&
        JSON.stringify(r.body).includes('"selector"'),
    );
    // The first write met the injected change; each retry read again and sent the resourceVersion it read
    // (the engine's own state writes to the same Service may cost another round).
    const statuses = attempts.map((r) => r.status);
    expect(statuses[0]).toBe(409);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(1, -1).every((s) => s === 409)).toBe(true);
    const rvs = attempts.map((r) => ((r.body as JsonObject).metadata as JsonObject).resourceVersion);
    expect(new Set(rvs).size).toBe(rvs.length);
    const live = standIn.get("services", "shop");
    expect(annotations(live)["team.example.com/owner"]).toBe("payments");
    expect(selectorOf(standIn, "shop")).toEqual({ app: "shop", version: "green" });
  });

  it("refuses a second deploy from another runner while the first is recorded in the cluster", async () => {
    cluster = await startCluster();
    const [a, b] = [await cluster.engine(), await cluster.engine()]; // two CI runners, two processes
    const results = await Promise.allSettled([a.engine.deploy("2.0.0"), b.engine.deploy("2.1.0")]);
    const started = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toBeInstanceOf(DeployInProgressError);
    expect(String(refused[0]?.reason.message)).toMatch(
      /deploy d1 of version 2\.\d\.0 is in progress \(phase Progressing\)/,
    );
    const winner = (started[0] as PromiseFulfilledResult<StartedOperation>).value;
    expect((await winner.done).phase).toBe("Healthy");
    // The loser's view is now stale: it is told to run again instead of overwriting deploy d1.
    const loser = winner.record.version === "2.0.0" ? b : a;
    await expect(loser.engine.deploy("2.1.0")).rejects.toBeInstanceOf(StaleStateError);
    const history = historyOf(cluster.standIn);
    expect(history).toHaveLength(1);
  });
});

describe("the readiness gate", () => {
  it("holds new pods out of Ready until the pre-switch checks passed, then opens before the selector moves", async () => {
    cluster = await startCluster({ kubernetes: { readinessGate: true } });
    const { standIn } = cluster;
    const { engine } = await cluster.engine();
    let gatedWhileSmoking: JsonObject | undefined;
    engine.onEvent((event) => {
      if (
        event.type === "deploy" &&
        event.record.steps.find((s) => s.name === "smoke-checks")?.state === "running"
      ) {
        gatedWhileSmoking ??= greenPods(standIn)[0];
      }
    });
    const record = await (await engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Healthy");

    const conditions = (pod: JsonObject | undefined) =>
      ((pod?.status as JsonObject)?.conditions as JsonObject[]) ?? [];
    expect(conditions(gatedWhileSmoking).find((c) => c.type === "ContainersReady")?.status).toBe("True");
    expect(conditions(gatedWhileSmoking).find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ReadinessGatesNotReady",
      message: 'corresponding condition of pod readiness gate "cutover.dev/switch-ready" does not exist.',
    });
    for (const pod of greenPods(standIn)) {
      expect(conditions(pod).find((c) => c.type === "cutover.dev/switch-ready")?.status).toBe("True");
      expect(conditions(pod).find((c) => c.type === "Ready")?.status).toBe("True");
    }
    const requests = standIn.server.requests;
    const gates = requests.filter((r) => r.path.endsWith("/status") && r.path.includes("/pods/"));
    expect(gates.length).toBeGreaterThanOrEqual(2);
    expect(
      gates.every((r) => r.contentType === "application/strategic-merge-patch+json" && r.status === 200),
    ).toBe(true);
    const lastGate = requests.lastIndexOf(gates[gates.length - 1] as (typeof gates)[number]);
    const selector = requests.findIndex(
      (r) =>
        r.verb === "PATCH" &&
        r.path.endsWith("/services/shop") &&
        JSON.stringify(r.body).includes('"selector"'),
    );
    expect(lastGate).toBeLessThan(selector);
  });
});

function greenPods(standIn: ClusterFixture["standIn"]): JsonObject[] {
  return standIn.server.store
    .list("pods", standIn.namespace)
    .filter(
      (p) =>
        String((p.metadata as JsonObject).name).startsWith("shop-green") &&
        !(p.metadata as JsonObject).deletionTimestamp,
    );
}

function podCount(c: ClusterFixture, prefix: string): number {
  return c.standIn.server.store
    .list("pods", c.standIn.namespace)
    .filter((p) => String((p.metadata as JsonObject).name).startsWith(prefix)).length;
}

describe("confirming the switch", () => {
  it("keeps asking the active Service until a lagging data plane answers with the new version only", async () => {
    cluster = await startCluster({ propagationMs: 400 });
    const { engine } = await cluster.engine();
    const record = await (await engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "switch")?.durationMs).toBeGreaterThanOrEqual(380);
    expect(new Set(await versionsThrough(cluster.active, 10))).toEqual(new Set(["2.0.0"]));
  });

  it("puts the selector back and aborts when the new version never answers through the active Service", async () => {
    cluster = await startCluster({
      propagationMs: 60_000,
      kubernetes: { switchProbe: { url: "PLACEHOLDER", answers: 3, interval: "20ms", timeout: "600ms" } },
    });
    const { engine } = await cluster.engine();
    const record = await (await engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /did not answer with version 2\.0\.0 only \(1\.0\.0 x\d+\); the selector was put back.*traffic stayed on blue/,
    );
    expect(selectorOf(cluster.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(replicasOf(cluster.standIn, "deployments", "shop-green")).toBe(0);
  });
});

describe("watching a rollout", () => {
  it("reads the Deployment again when its watch is answered with 410 Expired, and goes on", async () => {
    // 3 s to become ready: time for both expired watches even on a busy machine, before the rollout is done.
    cluster = await startCluster({
      behaviour: ({ version }) => ({ readyAfterMs: version === "2.0.0" ? 3_000 : 40 }),
    });
    const { standIn } = cluster;
    let compactions = 0;
    standIn.server.onRequest((request) => {
      if (request.query.watch === "true" && compactions < 2) {
        compactions += 1;
        // Something else changes, then etcd compacts past the resourceVersion the watch starts from.
        standIn.server.write("services", standIn.namespace, "shop-preview", "someone", (service) => {
          const metadata = service.metadata as JsonObject;
          metadata.annotations = {
            ...((metadata.annotations as JsonObject | undefined) ?? {}),
            touched: String(compactions),
          };
        });
        standIn.server.store.compact();
      }
    });
    const { platform } = await cluster.engine();
    await platform.start("green", "2.0.0", 2);
    await platform.waitReady("green", { timeoutMs: 20_000 });
    const watches = standIn.server.requests.filter((r) => r.query.watch === "true");
    expect(compactions).toBe(2);
    expect(watches.length).toBeGreaterThanOrEqual(3); // each expired watch was followed by a read and a new watch
    expect(platform.status("green").replicas.filter((r) => r.ready)).toHaveLength(2);
  });
});
