/**
 * The stand-in with real pods (`pods: "processes"`): each pod is the built demo app as a local process,
 * kube-proxy forwards TCP connections to those processes, and the pod proxy subresource reaches them. Run
 * `npx tsc -p tsconfig.json` first (dist/examples/demo-app). Every check goes over real sockets.
 */
import { request } from "node:http";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, isAlive } from "../helpers/eventually.js";
import type { JsonObject } from "./stand-in/json.js";
import { StandIn, type StandInOptions } from "./stand-in/stand-in.js";

let standIn: StandIn | null = null;
afterEach(async () => {
  await standIn?.close();
  standIn = null;
});

async function start(options: StandInOptions = {}): Promise<StandIn> {
  standIn = await StandIn.start({ namespace: "web", pods: "processes", ...options });
  return standIn;
}

const API = "/api/v1/namespaces/web";
const DEPLOYMENTS = "/apis/apps/v1/namespaces/web/deployments";
const probe = { httpGet: { path: "/health", port: "http" }, periodSeconds: 1 };

interface DeploymentExtra {
  /** A third label, for two Deployments of one colour. */
  readonly track?: string;
  readonly replicas?: number;
  readonly env?: JsonObject[];
  /** Merged into the pod spec. */
  readonly pod?: JsonObject;
  readonly spec?: JsonObject;
}

/** One colour of the demo app, as cutover renders it: labels app + version, a named port, probes. */
function deployment(colour: string, version: string, extra: DeploymentExtra = {}): JsonObject {
  const labels = { app: "web", version: colour, ...(extra.track ? { track: extra.track } : {}) };
  const name = extra.track ? `web-${colour}-${extra.track}` : `web-${colour}`;
  const env = extra.env ?? [
    { name: "APP_VERSION", value: version },
    { name: "ENVIRONMENT", value: colour },
    { name: "PORT", value: "8080" },
  ];
  const container = {
    name: "web",
    image: `registry.example.com/web:${version}`,
    ports: [{ name: "http", containerPort: 8080 }],
    env,
    readinessProbe: probe,
    startupProbe: { ...probe, failureThreshold: 30 },
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, annotations: { "cutover.dev/version": version } },
    spec: {
      replicas: extra.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { "cutover.dev/version": version } },
        spec: { containers: [container], ...extra.pod },
      },
      ...extra.spec,
    },
  };
}

const containerOf = (d: JsonObject): JsonObject =>
  ((((d.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] ?? {};

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web" },
  spec: { selector: { app: "web", version: "blue" }, ports: [{ port: 80, targetPort: "http" }] },
};

async function call(method: string, path: string, body?: unknown, contentType = "application/json") {
  const response = await fetch(`${standIn?.url}${path}`, {
    method,
    headers: { authorization: "Bearer stand-in-token", "content-type": contentType },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.startsWith("application/json");
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (json ? JSON.parse(text) : {}) as JsonObject,
  };
}

const pods = (s: StandIn, prefix = "") =>
  s.server.store
    .list("pods", "web")
    .filter((p) => String((p.metadata as JsonObject).name).startsWith(prefix));
const podName = (p: JsonObject | undefined) => String((p?.metadata as JsonObject | undefined)?.name);
const condition = (p: JsonObject | undefined, type: string) =>
  (((p?.status as JsonObject | undefined)?.conditions as JsonObject[] | undefined) ?? []).find(
    (c) => c.type === type,
  );
const statusOf = (p: JsonObject | undefined): JsonObject => (p?.status as JsonObject | undefined) ?? {};
const containerStatus = (p: JsonObject | undefined) =>
  (((p?.status as JsonObject | undefined)?.containerStatuses as JsonObject[] | undefined) ?? [])[0];
const stateOf = (p: JsonObject | undefined): JsonObject =>
  (containerStatus(p)?.state as JsonObject | undefined) ?? {};
const readyPods = (s: StandIn, prefix: string) =>
  pods(s, prefix).filter(
    (p) => condition(p, "Ready")?.status === "True" && !(p.metadata as JsonObject).deletionTimestamp,
  );

/** One request on a new connection (as a new client would open one): the answering version, or what failed. */
function askOnce(address: { host: string; port: number }, path = "/"): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ ...address, path, agent: false }, (res) => {
      res.resume();
      const version = res.headers["x-app-version"];
      res.on("end", () => resolve(typeof version === "string" ? version : `status ${res.statusCode}`));
    });
    req.on("error", (error) => resolve(`failed: ${error.message}`));
    req.end();
  });
}

describe("pods as processes", () => {
  it("a pod becomes Ready only after its process answers the readiness probe, and after its readiness gate", async () => {
    const s = await start({ env: () => ({ SLOW_START_S: "0.5" }) });
    const seen: { phase: unknown; running: boolean; containersReady: unknown; listening: boolean }[] = [];
    s.server.store.subscribe((event) => {
      if (event.resource !== "pods" || event.type === "DELETED") return;
      const status = (event.object.status ?? {}) as JsonObject;
      seen.push({
        phase: status.phase,
        running: Boolean(stateOf(event.object).running),
        containersReady: condition(event.object, "ContainersReady")?.status,
        listening: s.logs(podName(event.object)).includes("demo-app listening"),
      });
    });
    const gate = "example.com/load-balancer";
    await call(
      "POST",
      DEPLOYMENTS,
      deployment("blue", "1.0.0", { pod: { readinessGates: [{ conditionType: gate }] } }),
    );

    await eventually(
      "the container is ready",
      () => condition(pods(s)[0], "ContainersReady")?.status === "True",
      15_000,
    );
    const before = seen.filter((e) => e.containersReady !== "True");
    expect(before.some((e) => e.phase === "Running" && e.running)).toBe(true); // running, not yet answering
    expect(seen.find((e) => e.containersReady === "True")?.listening).toBe(true);
    const pod = pods(s)[0];
    expect(condition(pod, "Ready")).toMatchObject({ status: "False", reason: "ReadinessGatesNotReady" });
    expect(statusOf(pod).podIP).toMatch(/^10\.244\.\d+\.\d+$/);

    const patch = { status: { conditions: [{ type: gate, status: "True" }] } };
    const patched = await call(
      "PATCH",
      `${API}/pods/${podName(pod)}/status`,
      patch,
      "application/strategic-merge-patch+json",
    );
    expect(patched.status).toBe(200);
    await eventually("the pod is Ready", () => condition(pods(s)[0], "Ready")?.status === "True");
  });

  it("restarts a process that exits, with the kubelet's back-off (CrashLoopBackOff) and restartCount", async () => {
    const s = await start({ env: () => ({ CRASH_AFTER_S: "0.1" }), kubeletSecondMs: 50 });
    const reasons = new Set<string>();
    s.server.store.subscribe((event) => {
      const waiting = stateOf(event.object).waiting as JsonObject | undefined;
      if (event.resource === "pods" && waiting?.reason) reasons.add(`${waiting.reason}: ${waiting.message}`);
    });
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0"));
    await eventually(
      "the second restart",
      () => Number(containerStatus(pods(s)[0])?.restartCount) >= 2,
      15_000,
    );
    const status = containerStatus(pods(s)[0]);
    expect(status?.lastState).toMatchObject({ terminated: { exitCode: 1, reason: "Error" } });
    expect([...reasons]).toContainEqual(
      expect.stringMatching(
        /^CrashLoopBackOff: back-off 10s restarting failed container=web pod=web-blue-\w+-\w+_web\(/,
      ),
    );
    expect(s.logs(podName(pods(s)[0]))).toContain("crashing on purpose");
  });
  it("kills a container whose startup probe keeps failing, and starts it again", async () => {
    const s = await start({ env: () => ({ FAIL_HEALTH: "1" }), kubeletSecondMs: 50 });
    const startupFailing = { startupProbe: { ...probe, failureThreshold: 3 } };
    const d = deployment("blue", "1.0.0");
    const pod = { containers: [{ ...containerOf(d), ...startupFailing }] };
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0", { pod }));
    await eventually("a restart", () => Number(containerStatus(pods(s)[0])?.restartCount) >= 1, 15_000);
    const status = containerStatus(pods(s)[0]);
    expect(status?.lastState).toHaveProperty("terminated.finishedAt"); // SIGTERM: the demo app exits 0
    expect(condition(pods(s)[0], "Ready")?.status).toBe("False");
  });
});

describe("kube-proxy with processes", () => {
  it("forwards to Ready pods only, and follows a selector change after the propagation delay", async () => {
    const s = await start({
      env: ({ version }) => (version === "broken" ? { FAIL_HEALTH: "1" } : {}),
    });
    await call("POST", `${API}/services`, service);
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0", { track: "main" }));
    await call("POST", DEPLOYMENTS, deployment("blue", "broken", { track: "canary" })); // selected, never Ready
    await call("POST", DEPLOYMENTS, deployment("green", "2.0.0"));
    const address = await s.serviceAddress("web", 300);
    await eventually(
      "blue and green are Ready",
      () => readyPods(s, "web-blue-main").length === 1 && readyPods(s, "web-green").length === 1,
      15_000,
    );
    expect(condition(pods(s, "web-blue-canary")[0], "ContainersReady")?.status).toBe("False");
    s.catchUpServices();
    const answers = await Promise.all(Array.from({ length: 6 }, () => askOnce(address)));
    expect(answers).toEqual(Array(6).fill("1.0.0")); // the canary pod is picked by the selector but not Ready

    const patchedAt = Date.now();
    await call(
      "PATCH",
      `${API}/services/web`,
      { spec: { selector: { version: "green" } } },
      "application/merge-patch+json",
    );
    const timeline: { ms: number; version: string }[] = [];
    while (!timeline.some((a) => a.version === "2.0.0") && Date.now() - patchedAt < 5_000) {
      const version = await askOnce(address);
      timeline.push({ ms: Date.now() - patchedAt, version });
    }
    const firstGreen = timeline.findIndex((a) => a.version === "2.0.0");
    expect(firstGreen).toBeGreaterThan(0);
    expect(new Set(timeline.slice(0, firstGreen).map((a) => a.version))).toEqual(new Set(["1.0.0"]));
    expect(timeline[firstGreen]?.ms).toBeGreaterThanOrEqual(300);
    expect(await Promise.all(Array.from({ length: 4 }, () => askOnce(address)))).toEqual(
      Array(4).fill("2.0.0"),
    );
  });

  it("lets a terminating pod finish a request in flight, and sends new connections to the Ready pod", async () => {
    const s = await start();
    await call("POST", `${API}/services`, service);
    const replaceFirst = {
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    };
    const grace = { terminationGracePeriodSeconds: 30 }; // 3 s with the kubelet's 100 ms seconds
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0", { pod: grace, spec: replaceFirst }));
    const address = await s.serviceAddress("web", 0);
    await eventually("1.0.0 is Ready", () => readyPods(s, "web-blue").length === 1, 15_000);
    const old = podName(pods(s)[0]);
    const oldPid = s.pids().get(old);
    let terminatingAt = Number.POSITIVE_INFINITY;
    s.server.store.subscribe((event) => {
      const terminating = (event.object.metadata as JsonObject).deletionTimestamp;
      if (podName(event.object) === old && terminating) terminatingAt = Math.min(terminatingAt, Date.now());
    });

    const slow = askSlow(address, 1_500);
    const sentAt = Date.now();
    // Not an assertion: time for the request to travel through kube-proxy into the process before SIGTERM.
    await eventually("the request has had time to reach the pod", () => Date.now() - sentAt > 200);
    const next = deployment("blue", "1.0.1", { pod: grace }).spec as JsonObject;
    await call(
      "PATCH",
      `${DEPLOYMENTS}/web-blue`,
      { spec: { template: next.template } },
      "application/merge-patch+json",
    );
    const answer = await slow;
    expect(answer).toMatchObject({ status: 200, version: "1.0.0", message: "slow answer" });
    expect(terminatingAt).toBeLessThan(answer.endedAt); // it answered while terminating

    await eventually(
      "the old pod is gone once its process has exited",
      () => s.get("pods", old) === null,
      10_000,
    );
    expect(isAlive(Number(oldPid))).toBe(false);
    await eventually("1.0.1 is Ready", () => readyPods(s, "web-blue").length === 1, 15_000);
    expect(await askOnce(address, "/health")).toBe("1.0.1");
  });
});

describe("environment from Secrets and ConfigMaps", () => {
  it("waits with CreateContainerConfigError until the Secret exists, then hands the env and envFrom values to the process", async () => {
    const s = await start();
    await call("POST", `${API}/configmaps`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "release" },
      data: { version: "3.1.4", SHARD: "7" },
    });
    const env: JsonObject[] = [
      { name: "APP_VERSION", valueFrom: { configMapKeyRef: { name: "release", key: "version" } } },
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "db", key: "url" } } },
      { name: "ENVIRONMENT", valueFrom: { fieldRef: { fieldPath: "metadata.labels['version']" } } },
      { name: "REPLICA", value: "shard-$(SHARD)" },
      { name: "PORT", value: "8080" },
    ];
    const pod = {
      containers: [
        {
          ...containerOf(deployment("blue", "1.0.0")),
          env,
          envFrom: [{ configMapRef: { name: "release" } }],
        },
      ],
    };
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0", { pod }));
    await eventually(
      "the container waits for its Secret",
      () => (stateOf(pods(s)[0]).waiting as JsonObject | undefined)?.reason === "CreateContainerConfigError",
      15_000,
    );
    const waiting = stateOf(pods(s)[0]).waiting;
    expect(waiting).toEqual({ reason: "CreateContainerConfigError", message: 'secret "db" not found' });
    expect(statusOf(pods(s)[0]).phase).toBe("Pending");
    const name = podName(pods(s)[0]);
    const noProcess = await call("GET", `${API}/pods/${name}/proxy/health`);
    expect(noProcess.status).toBe(503);
    expect(noProcess.body).toMatchObject({
      kind: "Status",
      reason: "ServiceUnavailable",
      message: expect.stringMatching(
        /^error trying to reach service: dial tcp 10\.244\.\d+\.\d+:8080: connect: connection refused$/,
      ),
    });

    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db" },
      stringData: { url: "postgres://app:pw@127.0.0.1:9/shop" },
    };
    expect((await call("POST", `${API}/secrets`, secret)).body).toMatchObject({
      data: { url: Buffer.from(secret.stringData.url).toString("base64") },
    });
    expect(s.get("secrets", "db")).not.toHaveProperty("stringData");
    await eventually("the pod is Ready", () => readyPods(s, "web-blue").length === 1, 15_000);
    const health = await call("GET", `${API}/pods/${name}/proxy/health`);
    expect(health.headers.get("x-app-version")).toBe("3.1.4");
    const greetings = await call("GET", `${API}/pods/${name}/proxy/greetings`);
    expect(greetings.status).toBe(500); // DATABASE_URL is set: the demo app tried the database it names
    expect(greetings.body.error).toContain("127.0.0.1:9");
    const root = await call("GET", `${API}/pods/${name}/proxy/`);
    expect(root.body).toMatchObject({ version: "3.1.4", environment: "blue", replica: "shard-7" });
  });
});

describe("the pod proxy subresource", () => {
  it("answers with the pod's own status, headers and body, also through client-node, and as Status objects when it cannot", async () => {
    const s = await start();
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0"));
    await eventually("blue is Ready", () => readyPods(s, "web-blue").length === 1, 15_000);
    const name = podName(pods(s)[0]);
    await call("GET", `${API}/pods/${name}/proxy/slow?ms=1`); // a request the metrics count
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(s.kubeconfig());
    const core = kubeconfig.makeApiClient(CoreV1Api);
    const metrics = await core.connectGetNamespacedPodProxyWithPath({
      name: `${name}:8080`,
      namespace: "web",
      path: "metrics",
    });
    expect(metrics).toMatch(/^http_requests_total\{[^}]*path="\/slow"[^}]*\} 1$/m);
    expect(metrics).toContain('version="1.0.0"');
    expect(s.server.requests.at(-1)?.path).toBe(`${API}/pods/${name}%3A8080/proxy/metrics`);

    const missing = await call("GET", `${API}/pods/${name}/proxy/nope?x=1`);
    expect(missing.status).toBe(404); // the demo app's own 404, with its body
    expect(missing.body).toEqual({ error: "not found", path: "/nope" });
    const noPod = await call("GET", `${API}/pods/nobody/proxy/health`);
    expect(noPod.body).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "nobody" not found',
      reason: "NotFound",
      details: { name: "nobody", kind: "pods" },
      code: 404,
    });
    const wrongPort = await call("GET", `${API}/pods/${name}:9999/proxy/health`);
    expect(wrongPort.status).toBe(503);
    expect((await call("GET", `${API}/pods/a:b:c:d/proxy/`)).body.message).toBe(
      'invalid pod request "a:b:c:d"',
    );
  });
});

describe("close()", () => {
  it("kills every process it started and waits for them", async () => {
    const s = await start();
    await call("POST", DEPLOYMENTS, deployment("blue", "1.0.0", { replicas: 2 }));
    await eventually("two processes run", () => s.pids().size === 2, 15_000);
    const pids = [...s.pids().values()];
    expect(pids.every(isAlive)).toBe(true);
    await s.close();
    standIn = null;
    expect(pids.filter(isAlive)).toEqual([]);
  });
});

interface SlowAnswer {
  readonly status: number;
  readonly version: string;
  readonly message: string;
  readonly endedAt: number;
}

/** GET /slow?ms=N through a Service on a new connection: which version answered, and when. */
function askSlow(address: { host: string; port: number }, ms: number): Promise<SlowAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ ...address, path: `/slow?ms=${ms}`, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { version: string; message: string };
        resolve({ status: res.statusCode ?? 0, ...body, endedAt: Date.now() });
      });
    });
    req.on("error", reject);
    req.end();
  });
}
