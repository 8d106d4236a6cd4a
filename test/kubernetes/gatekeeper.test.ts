/**
 * `cutover gatekeeper` on the stand-in cluster: blue serves 1.0.0 behind a readiness gate that only cutover
 * opens, green is idle (one warm pod of the same version). The HPA scales blue from 2 to 4 (its minimum
 * raised through the API) while no cutover command runs. With a gatekeeper the new pods are Ready as soon
 * as their containers are; without one they stay NotReady; two gatekeepers elect one leader through a Lease
 * and the standby takes over when the leader stops or is killed; the idle colour is never opened.
 * Gatekeepers are built as the CLI builds them (createGatekeeper), and the real CLI runs in a child process.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1PolicyRule } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createGatekeeper, type GatekeeperFlags } from "../../src/cli/commands/gatekeeper.js";
import { silentLogger } from "../../src/log.js";
import type { Gatekeeper } from "../../src/platforms/kubernetes/gatekeeper.js";
import { gatekeeperRules } from "../../src/platforms/kubernetes/gatekeeper-manifests.js";
import { createKubeClients, loadKubeConfig } from "../../src/platforms/kubernetes/kube-clients.js";
import { READINESS_GATE } from "../../src/platforms/kubernetes/manifest-names.js";
import { openGates } from "../../src/platforms/kubernetes/readiness-gate.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { CLI } from "../helpers/project.js";
import { type ClusterFixture, containersReady, readyPods, startCluster } from "./cluster-fixture.js";
import type { RequestRecord } from "./stand-in/api-server.js";
import type { JsonObject } from "./stand-in/json.js";

/** Lease 1 s, renew deadline 600 ms, retry 100 ms: client-go's 15 s / 10 s / 2 s, fast. */
const FAST = { leaseDuration: "1s", renewDeadline: "600ms", retryPeriod: "100ms" } as const;
const LEASE_MS = 1_000;
/** A standby takes the Lease at its first try after the lease ran out as it saw it: two tries of slack. */
const TAKEOVER_MS = LEASE_MS + 2 * 100 * 2.2;
const LEASE = "shop-cutover-gatekeeper";
/** metav1.MicroTime as the API server parses it (RFC3339Micro): six fractional digits. */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let c: ClusterFixture;
let clock: ReadinessClock;
const gatekeepers: Gatekeeper[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  c = await startCluster({
    kubernetes: { readinessGate: true, warmReplicas: 1, autoscaling: { maxReplicas: 6 } },
  });
  clock = new ReadinessClock(c);
  await openLiveGates(c); // as the deploy that made blue live did
  await eventually("blue's two pods are Ready", () => readyPods(c.standIn, "blue") === 2);
  await eventually("green's warm pod runs", () => containersReady(c.standIn, "green") === 1);
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(gatekeepers.splice(0).map((g) => g.stop()));
  clock.stop();
  await c.close();
});

describe("cutover gatekeeper", () => {
  it("opens the gate of the pods an HPA scale-up adds to the live colour: Ready as soon as their containers", async () => {
    const keeper = await startGatekeeper("keeper-a");
    await eventually("it leads", () => keeper.leading, 3_000);
    raiseMinimum(c, "shop-blue", 4);
    await eventually("blue's four pods are Ready", () => readyPods(c.standIn, "blue") === 4, 5_000);
    const added = clock.podsAfter(2, "blue");
    expect(added).toHaveLength(2);
    for (const pod of added) expect(pod.readyAfterContainersMs).toBeLessThanOrEqual(2_000);
    report("Ready after ContainersReady, gatekeeper in the test process", added);
    expect(clock.idleOpened("green")).toEqual([]);
  });

  it("without a gatekeeper the new pods stay NotReady; one started then opens them", async () => {
    raiseMinimum(c, "shop-blue", 4);
    await eventually("the new pods' containers are ready", () => containersReady(c.standIn, "blue") === 4);
    const since = Date.now();
    await sleep(1_500);
    expect(readyPods(c.standIn, "blue"), `${Date.now() - since} ms after their containers`).toBe(2);
    const startedAt = Date.now();
    await startGatekeeper("late");
    await eventually("blue's four pods are Ready", () => readyPods(c.standIn, "blue") === 4, 2_000);
    console.info(`gatekeeper: started late, the waiting pods were Ready ${Date.now() - startedAt} ms after`);
    expect(clock.idleOpened("green")).toEqual([]);
  });

  it("follows a switch: opens the new live colour's pods, and no longer the old one's", async () => {
    const keeper = await startGatekeeper("keeper-a");
    await eventually("it leads", () => keeper.leading, 3_000);
    selectColour(c, "green");
    await eventually("green's pod is Ready", () => readyPods(c.standIn, "green") === 1, 2_000);
    raiseMinimum(c, "shop-blue", 4);
    await eventually("blue's new containers are ready", () => containersReady(c.standIn, "blue") === 4);
    await sleep(1_000); // many watch events and retries later (100 ms), the idle colour's gates stay shut
    expect(readyPods(c.standIn, "blue")).toBe(2);
    expect(clock.podsAfter(2, "blue").filter((p) => p.gateOpenedAt !== null)).toEqual([]);
  });

  it("two gatekeepers: one holds the lease; the other takes over once it stops, and keeps the gates", async () => {
    const a = await startGatekeeper("keeper-a");
    await eventually("a leads", () => a.leading, 3_000);
    const b = await startGatekeeper("keeper-b");
    await sleep(3 * 100); // three of b's tries (retryPeriod 100 ms): it stands by
    expect([a.leading, b.leading]).toEqual([true, false]);
    expect(leaseSpec(c).holderIdentity).toBe("keeper-a");
    const stoppedAt = Date.now();
    await a.stop();
    await eventually("b leads", () => b.leading, TAKEOVER_MS);
    const takeover = Date.now() - stoppedAt;
    console.info(`gatekeeper: standby took over ${takeover} ms after the leader released the lease`);
    expect(leaseSpec(c)).toMatchObject({
      holderIdentity: "keeper-b",
      leaseDurationSeconds: 1,
      leaseTransitions: 1,
      acquireTime: expect.stringMatching(MICRO_TIME),
      renewTime: expect.stringMatching(MICRO_TIME),
    });
    raiseMinimum(c, "shop-blue", 4);
    await eventually("blue's four pods are Ready", () => readyPods(c.standIn, "blue") === 4, 5_000);
    expect(clock.podsAfter(2, "blue").every((p) => p.readyAfterContainersMs <= 2_000)).toBe(true);
  });

  it("a leader that cannot renew steps down within its renew deadline, and leads again once it can", async () => {
    // Slower timings here, so a busy machine's stalls cannot blur the two deadlines compared below.
    const a = await startGatekeeper("keeper-a", undefined, {
      leaseDuration: "4s",
      renewDeadline: "1500ms",
      retryPeriod: "100ms",
    });
    await eventually("a leads", () => a.leading, 3_000);
    const failing = c.standIn.server.onRequest((request, target) => {
      if (target.info.plural === "leases" && request.verb === "PUT")
        throw new Error("etcdserver: request timed out");
    });
    const since = Date.now();
    await eventually("a stepped down", () => !a.leading, 4_000);
    const steppedDown = Date.now() - since;
    console.info(`gatekeeper: a leader that could not renew stepped down after ${steppedDown} ms`);
    // Its renew deadline (1.5 s) after its last renewal: before its lease (4 s) ran out for the others.
    expect(steppedDown).toBeLessThan(4_000);
    failing();
    await eventually("a leads again", () => a.leading, 4_000 + 1_000);
    raiseMinimum(c, "shop-blue", 3);
    await eventually("blue's three pods are Ready", () => readyPods(c.standIn, "blue") === 3, 5_000);
  });

  it("the real CLI: leads and opens new pods; killed, a standby takes over within the lease; SIGTERM releases", async () => {
    const first = runCli("cli-1");
    await eventually("the CLI leads", () => leaseSpec(c).holderIdentity === "cli-1", 10_000);
    raiseMinimum(c, "shop-blue", 4);
    await eventually("blue's four pods are Ready", () => readyPods(c.standIn, "blue") === 4, 5_000);
    const added = clock.podsAfter(2, "blue");
    expect(added).toHaveLength(2);
    for (const pod of added) expect(pod.readyAfterContainersMs).toBeLessThanOrEqual(2_000);
    report("Ready after ContainersReady, `cutover gatekeeper` in a child process", added);

    const standby = await startGatekeeper("standby");
    await sleep(300); // three of its tries (retryPeriod 100 ms): it stands by
    expect(standby.leading).toBe(false);
    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    // Not released: the standby waits out the lease from when it last saw it renewed (it never compares clocks).
    await eventually("the standby leads", () => standby.leading, TAKEOVER_MS + 500);
    console.info(`gatekeeper: standby took over ${Date.now() - killedAt} ms after the leader was killed`);

    const second = runCli("cli-2");
    await eventually("cli-2 is up and standing by", () => second.output().includes("standing by"), 10_000);
    await standby.stop();
    await eventually("cli-2 leads", () => leaseSpec(c).holderIdentity === "cli-2", TAKEOVER_MS);
    second.child.kill("SIGTERM");
    const exit = await second.exited;
    expect(exit, second.output()).toEqual({ code: 0, signal: null });
    expect(second.output()).toContain("released the lease");
    expect(leaseSpec(c).holderIdentity).toBeUndefined();
    expect(isAlive(second.child.pid ?? -1)).toBe(false);
  });

  it("lists again when its resourceVersion is too old (410 Expired), and keeps the gates", async () => {
    const keeper = await startGatekeeper("keeper-a", 1);
    await eventually("it leads", () => keeper.leading, 3_000);
    const lists = () =>
      c.standIn.server.requests.filter(
        (r) => r.verb === "GET" && r.path.endsWith("/services") && !r.query.watch,
      );
    // Leading comes first, then its caches list: wait for that list, then for nothing more.
    await eventually("it listed the Service", () => lists().length === 1, 3_000);
    // Something else changes, then etcd compacts: the resourceVersion the watches resume from is gone.
    c.standIn.server.write("horizontalpodautoscalers", c.standIn.namespace, "shop-green", "kubectl", (h) => {
      (h.metadata as JsonObject).annotations = { touched: "yes" };
    });
    c.standIn.server.store.compact();
    await eventually("it listed the Service again", () => lists().length === 2, 3_000);
    expect(lists()[1]?.status).toBe(200);
    raiseMinimum(c, "shop-blue", 4);
    await eventually("blue's four pods are Ready", () => readyPods(c.standIn, "blue") === 4, 5_000);
  });

  it("makes only the calls its rendered Role allows", async () => {
    const from = c.standIn.server.requests.length;
    const a = await startGatekeeper("keeper-a");
    await eventually("a leads", () => a.leading, 3_000);
    const b = await startGatekeeper("keeper-b");
    raiseMinimum(c, "shop-blue", 3);
    await eventually("blue's three pods are Ready", () => readyPods(c.standIn, "blue") === 3, 5_000);
    await a.stop();
    await eventually("b leads", () => b.leading, TAKEOVER_MS);
    const rules = gatekeeperRules("shop");
    const calls = c.standIn.server.requests.slice(from).map(rbacAttributes);
    expect(new Set(calls.map((call) => `${call.verb} ${call.resource}`))).toEqual(
      new Set([
        "list services",
        "watch services",
        "list deployments",
        "watch deployments",
        "list pods",
        "watch pods",
        "patch pods/status",
        "create leases",
        "get leases",
        "update leases",
      ]),
    );
    expect(calls.filter((call) => !allowed(rules, call))).toEqual([]);
    // The check has teeth: what it was not granted is refused.
    expect(allowed(rules, { verb: "patch", group: "", resource: "services", name: "shop" })).toBe(false);
    expect(
      allowed(rules, { verb: "update", group: "coordination.k8s.io", resource: "leases", name: "x" }),
    ).toBe(false);
  });

  it("refuses a config without the readiness gate, or not on Kubernetes, with exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-gatekeeper-"));
    const ungated = parse(c.yaml) as { kubernetes: Record<string, unknown> };
    ungated.kubernetes.readinessGate = false;
    const local = { service: "shop", version: "1.0.0", start: { command: "node server.js" } };
    writeFileSync(join(dir, "ungated.yaml"), stringify(ungated));
    writeFileSync(join(dir, "local.yaml"), stringify(local));
    const a = runCli("x", join(dir, "ungated.yaml"));
    const b = runCli("y", join(dir, "local.yaml"));
    expect(await a.exited).toEqual({ code: 2, signal: null });
    expect(a.errors()).toContain("set readinessGate: true");
    expect(await b.exited).toEqual({ code: 2, signal: null });
    expect(b.errors()).toContain("runs only with platform: kubernetes");
  });
});

// --- helpers -------------------------------------------------------------------------------------------

async function startGatekeeper(
  identity: string,
  watchTimeoutSeconds?: number,
  timings: Pick<GatekeeperFlags, "leaseDuration" | "renewDeadline" | "retryPeriod"> = FAST,
): Promise<Gatekeeper> {
  const flags: GatekeeperFlags = { ...timings, identity };
  const gatekeeper = await createGatekeeper(
    c.loaded,
    flags,
    silentLogger(),
    watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds },
  );
  gatekeepers.push(gatekeeper);
  void gatekeeper.run();
  return gatekeeper;
}

/** `cutover gatekeeper` in its own process, as its pod runs it. */
function runCli(identity: string, config?: string) {
  let file = config;
  if (!file) {
    file = join(mkdtempSync(join(tmpdir(), "cutover-gatekeeper-")), "cutover.yaml");
    writeFileSync(file, c.yaml);
  }
  const args = [CLI, "gatekeeper", "--config", file, "--identity", identity];
  args.push("--lease-duration", FAST.leaseDuration, "--renew-deadline", FAST.renewDeadline);
  args.push("--retry-period", FAST.retryPeriod);
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => stdout + stderr, errors: () => stderr };
}

/** Opens the gate of blue's pods as a cutover command does for the live colour. */
async function openLiveGates(fixture: ClusterFixture): Promise<void> {
  const kube = fixture.loaded.config.kubernetes;
  if (!kube) throw new Error("the fixture has no kubernetes section");
  const clients = createKubeClients(loadKubeConfig(kube, fixture.loaded.dir), kube.namespace);
  const pods = await clients.core.listNamespacedPod({
    namespace: kube.namespace,
    labelSelector: "version=blue",
  });
  await openGates(clients, pods.items, "1.0.0");
}

/** What `kubectl patch hpa --type merge -p '{"spec":{"minReplicas":N}}'` does. */
function raiseMinimum(fixture: ClusterFixture, hpa: string, minimum: number): void {
  fixture.standIn.server.write("horizontalpodautoscalers", fixture.standIn.namespace, hpa, "kubectl", (h) => {
    (h.spec as JsonObject).minReplicas = minimum;
  });
}

/** Moves the active Service's selector, as a switch (or a person with kubectl) does. */
function selectColour(fixture: ClusterFixture, colour: string): void {
  fixture.standIn.server.write("services", fixture.standIn.namespace, "shop", "kubectl", (s) => {
    ((s.spec as JsonObject).selector as JsonObject).version = colour;
  });
}

function leaseSpec(fixture: ClusterFixture): JsonObject {
  return (fixture.standIn.get("leases", LEASE)?.spec ?? {}) as JsonObject;
}

function report(what: string, pods: readonly PodTimes[]): void {
  const figures = pods.map((p) => `${p.name.slice(-5)} +${p.readyAfterContainersMs} ms`).join(", ");
  console.info(`gatekeeper: ${what}: ${figures}`);
}

interface PodTimes {
  readonly name: string;
  readonly colour: string;
  readonly createdAt: number;
  containersReadyAt: number | null;
  readyAt: number | null;
  gateOpenedAt: number | null;
  readonly readyAfterContainersMs: number;
}

/**
 * When each pod's containers became ready, when it became Ready and when its gate opened, on this
 * process's clock (conditions carry whole seconds only), from the stand-in's stream of changes.
 */
class ReadinessClock {
  readonly #pods = new Map<string, PodTimes>();
  readonly #unsubscribe: () => void;

  constructor(fixture: ClusterFixture) {
    const seen = (p: JsonObject) => this.#record(p);
    for (const pod of fixture.standIn.server.store.list("pods", fixture.standIn.namespace)) seen(pod);
    this.#unsubscribe = fixture.standIn.server.store.subscribe((event) => {
      if (event.resource === "pods" && event.type !== "DELETED") seen(event.object);
    });
  }

  stop(): void {
    this.#unsubscribe();
  }

  /** The pods of `colour` after the first `skip` it had, in the order they appeared. */
  podsAfter(skip: number, colour: string): PodTimes[] {
    return [...this.#pods.values()].filter((p) => p.colour === colour).slice(skip);
  }

  /** Pods of a colour whose gate is open although no one but the gatekeeper could have opened it. */
  idleOpened(colour: string): string[] {
    return [...this.#pods.values()]
      .filter((p) => p.colour === colour && p.gateOpenedAt !== null)
      .map((p) => p.name);
  }

  #record(pod: JsonObject): void {
    const metadata = pod.metadata as JsonObject;
    const name = String(metadata.name);
    const now = Date.now();
    let times = this.#pods.get(name);
    if (!times) {
      const colour = String((metadata.labels as JsonObject | undefined)?.version ?? "");
      times = {
        name,
        colour,
        createdAt: now,
        containersReadyAt: null,
        readyAt: null,
        gateOpenedAt: null,
        get readyAfterContainersMs() {
          return (this.readyAt ?? Number.POSITIVE_INFINITY) - (this.containersReadyAt ?? 0);
        },
      };
      this.#pods.set(name, times);
    }
    const isTrue = (type: string) => conditionsOf(pod).some((c) => c.type === type && c.status === "True");
    if (times.containersReadyAt === null && isTrue("ContainersReady")) times.containersReadyAt = now;
    if (times.readyAt === null && isTrue("Ready")) times.readyAt = now;
    if (times.gateOpenedAt === null && isTrue(READINESS_GATE)) times.gateOpenedAt = now;
  }
}

function conditionsOf(pod: JsonObject): JsonObject[] {
  const status = (pod.status ?? {}) as JsonObject;
  return (Array.isArray(status.conditions) ? status.conditions : []) as JsonObject[];
}

// --- RBAC, as the API server authorises a request --------------------------------------------------------

interface RbacAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly name: string;
}

/** The request's verb, API group, resource (with subresource) and name; list and watch take the name from `fieldSelector=metadata.name=`. */
function rbacAttributes(request: RequestRecord): RbacAttributes {
  const parts = request.path.split("/").filter(Boolean);
  const group = parts[0] === "api" ? "" : String(parts[1]);
  const rest = parts.slice(parts[0] === "api" ? 4 : 5); // after .../namespaces/{ns}
  const [resource = "", name = "", subresource] = rest;
  const watch = ["", "1", "true"].includes(request.query.watch ?? "false");
  const byField = /^metadata\.name=([^,]+)$/.exec(request.query.fieldSelector ?? "")?.[1] ?? "";
  const verbs: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };
  const verb =
    request.verb === "GET" ? (name ? "get" : watch ? "watch" : "list") : (verbs[request.verb] ?? "?");
  return {
    verb,
    group,
    resource: subresource ? `${resource}/${subresource}` : resource,
    name: name || byField,
  };
}

function allowed(rules: readonly V1PolicyRule[], call: RbacAttributes): boolean {
  return rules.some(
    (rule) =>
      (rule.apiGroups ?? []).includes(call.group) &&
      (rule.resources ?? []).includes(call.resource) &&
      rule.verbs.includes(call.verb) &&
      (!rule.resourceNames || rule.resourceNames.includes(call.name)),
  );
}
