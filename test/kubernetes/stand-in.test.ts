/**
 * The stand-in API server checked against the documented behaviour of the real one
 * (shared/reference/kubernetes-api.md, section numbers below), over plain HTTP as any client sees it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonObject } from "./stand-in/json.js";
import { StandIn } from "./stand-in/stand-in.js";

let standIn: StandIn;
beforeEach(async () => {
  standIn = await StandIn.start({ namespace: "web" });
});
afterEach(async () => {
  await standIn.close();
});

const SERVICES = "/api/v1/namespaces/web/services";
const DEPLOYMENTS = "/apis/apps/v1/namespaces/web/deployments";

async function call(method: string, path: string, body?: unknown, contentType = "application/json") {
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers: {
      authorization: "Bearer stand-in-token",
      "content-type": contentType,
      "user-agent": "kubectl/v1.33.0 (linux/amd64)",
    },
    body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as JsonObject };
}

const service = (selector: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web" },
  spec: { selector, ports: [{ port: 80, targetPort: 8080 }] },
});

const deployment = (version: string, extra: JsonObject = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", annotations: { "cutover.dev/version": version } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: `web:${version}` }] },
    },
    ...extra,
  },
});

const selector = async () => ((await call("GET", `${SERVICES}/web`)).body.spec as JsonObject).selector;

describe("PATCH (§1)", () => {
  it("answers 415 to a content type it does not accept, application/json included", async () => {
    await call("POST", SERVICES, service({ app: "web", version: "blue" }));
    const { status, body } = await call("PATCH", `${SERVICES}/web`, { spec: {} }, "application/json");
    expect(status).toBe(415);
    expect(body).toMatchObject({ kind: "Status", reason: "UnsupportedMediaType", code: 415 });
    expect(body.message).toMatch(
      /^the body of the request was in an unknown format - accepted media types include: /,
    );
  });

  it("refuses apply without fieldManager, and force on a non-apply patch, with 422", async () => {
    const apply = await call(
      "PATCH",
      `${SERVICES}/web`,
      service({ app: "web" }),
      "application/apply-patch+yaml",
    );
    expect(apply.status).toBe(422);
    expect(apply.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const force = await call(
      "PATCH",
      `${SERVICES}/web?force=true`,
      { spec: {} },
      "application/merge-patch+json",
    );
    expect(force.status).toBe(422);
    expect(force.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
  });

  it("answers 404 to a non-apply patch of a missing object; apply creates it with 201", async () => {
    const missing = await call("PATCH", `${SERVICES}/web`, { spec: {} }, "application/merge-patch+json");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      reason: "NotFound",
      message: 'services "web" not found',
      details: { name: "web", kind: "services" },
    });
    const created = await call(
      "PATCH",
      `${SERVICES}/web?fieldManager=bg`,
      service({ app: "web", version: "blue" }),
      "application/apply-patch+yaml",
    );
    expect(created.status).toBe(201);
  });

  it("changes the selector as each patch type does: merge and strategic merge, $patch replace, apply replaces the atomic map", async () => {
    await call("POST", SERVICES, service({ app: "web", version: "blue" }));
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { version: "green" } } },
      "application/merge-patch+json",
    );
    expect(await selector()).toEqual({ app: "web", version: "green" });
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { version: "blue" } } },
      "application/strategic-merge-patch+json",
    );
    expect(await selector()).toEqual({ app: "web", version: "blue" });
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { version: null } } },
      "application/merge-patch+json",
    );
    expect(await selector()).toEqual({ app: "web" });
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { $patch: "replace", tier: "x" } } },
      "application/strategic-merge-patch+json",
    );
    expect(await selector()).toEqual({ tier: "x" });
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { $retainKeys: ["tier"], other: "y" } } },
      "application/strategic-merge-patch+json",
    ).then((r) => expect(r.status).toBe(400));
    await call(
      "PATCH",
      `${SERVICES}/web`,
      [{ op: "replace", path: "/spec/selector", value: { app: "web", version: "blue" } }],
      "application/json-patch+json",
    );
    expect(await selector()).toEqual({ app: "web", version: "blue" });
    const failed = await call(
      "PATCH",
      `${SERVICES}/web`,
      [{ op: "replace", path: "/spec/nothing/here", value: 1 }],
      "application/json-patch+json",
    );
    expect(failed.status).toBe(422);
    expect(failed.body.message).toBe("the server rejected our request due to an error in our request");
    const applied = await call(
      "PATCH",
      `${SERVICES}/web?fieldManager=bg&force=true`,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { selector: { version: "green" } },
      },
      "application/apply-patch+yaml",
    );
    expect(applied.status).toBe(200);
    expect(await selector()).toEqual({ version: "green" });
  });

  it("refuses to apply over a field another manager owns with another value (409) unless forced", async () => {
    await call("POST", `${SERVICES}?fieldManager=M`, service({ app: "web", version: "blue" }));
    const body = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { selector: { app: "web", version: "green" } },
    };
    const refused = await call(
      "PATCH",
      `${SERVICES}/web?fieldManager=bg`,
      body,
      "application/apply-patch+yaml",
    );
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Apply failed with 1 conflict: conflict with "M" using v1: .spec.selector',
      reason: "Conflict",
      details: {
        causes: [
          { reason: "FieldManagerConflict", message: 'conflict with "M" using v1', field: ".spec.selector" },
        ],
      },
      code: 409,
    });
    expect(
      (
        await call(
          "PATCH",
          `${SERVICES}/web?fieldManager=bg&force=true`,
          body,
          "application/apply-patch+yaml",
        )
      ).status,
    ).toBe(200);
    expect(
      standIn.server.managers("services", "web", "web", ["spec", "selector"]).map((o) => o.manager),
    ).toEqual(["bg"]);
    // A merge patch never conflicts: it takes the field over (default manager: the User-Agent up to "/").
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { version: "blue" } } },
      "application/merge-patch+json",
    );
    expect(
      standIn.server.managers("services", "web", "web", ["spec", "selector"]).map((o) => o.manager),
    ).toEqual(["kubectl"]);
  });
});

describe("concurrency and errors (§2)", () => {
  it("answers 409 Conflict to a stale resourceVersion in a patch body, and applies one without it to the latest object", async () => {
    const created = await call("POST", SERVICES, service({ app: "web", version: "blue" }));
    const rv = (created.body.metadata as JsonObject).resourceVersion;
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { metadata: { annotations: { a: "1" } } },
      "application/merge-patch+json",
    );
    const stale = await call(
      "PATCH",
      `${SERVICES}/web`,
      { metadata: { resourceVersion: rv }, spec: { selector: { version: "green" } } },
      "application/merge-patch+json",
    );
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
      reason: "Conflict",
      details: { name: "web", kind: "services" },
      code: 409,
    });
    const blind = await call(
      "PATCH",
      `${SERVICES}/web`,
      { spec: { selector: { version: "green" } } },
      "application/merge-patch+json",
    );
    expect(blind.status).toBe(200);
  });

  it("answers AlreadyExists, the Deployment's qualified names, and 422 for an immutable selector", async () => {
    await call("POST", DEPLOYMENTS, deployment("1"));
    const again = await call("POST", DEPLOYMENTS, deployment("1"));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      reason: "AlreadyExists",
      message: 'deployments.apps "web" already exists',
      details: { name: "web", group: "apps", kind: "deployments" },
    });
    const changed = await call(
      "PATCH",
      `${DEPLOYMENTS}/web`,
      {
        spec: {
          selector: { matchLabels: { app: "other" } },
          template: { metadata: { labels: { app: "other" } } },
        },
      },
      "application/merge-patch+json",
    );
    expect(changed.status).toBe(422);
    expect(changed.body.message).toMatch(
      /^Deployment\.apps "web" is invalid: spec\.selector: Invalid value: .*: field is immutable$/,
    );
    expect(changed.body.details).toMatchObject({
      name: "web",
      group: "apps",
      kind: "Deployment",
      causes: [{ reason: "FieldValueInvalid", field: "spec.selector" }],
    });
    const missing = await call("GET", `${DEPLOYMENTS}/nope`);
    expect(missing.body).toMatchObject({
      code: 404,
      message: 'deployments.apps "nope" not found',
      details: { name: "nope", group: "apps", kind: "deployments" },
    });
  });

  it("refuses a request without the kubeconfig's token with 401", async () => {
    const response = await fetch(`${standIn.url}${SERVICES}`);
    expect(response.status).toBe(401);
  });
});

describe("watch (§3)", () => {
  /** Opens a watch: resolves once its head has come (the watch is registered), with a reader of its events. */
  async function openWatch(query: string, ms: number): Promise<() => Promise<JsonObject[]>> {
    const response = await fetch(`${standIn.url}${DEPLOYMENTS}?${query}`, {
      headers: { authorization: "Bearer stand-in-token" },
      signal: AbortSignal.timeout(ms),
    });
    expect(response.headers.get("content-type")).toBe("application/json");
    return async () => {
      const events: JsonObject[] = [];
      try {
        const text = await response.text();
        for (const line of text.split("\n").filter(Boolean)) events.push(JSON.parse(line));
      } catch {
        // the stream was cut by the timeout signal
      }
      return events;
    };
  }

  async function watch(query: string, ms: number): Promise<JsonObject[]> {
    return (await openWatch(query, ms))();
  }

  it("sends only later changes after a resourceVersion, ends cleanly at timeoutSeconds, and nothing for a no-op write", async () => {
    standIn.simulator.stop(); // no controller writes status meanwhile: only the changes below
    const created = await call("POST", DEPLOYMENTS, deployment("1"));
    const rv = (created.body.metadata as JsonObject).resourceVersion;
    const pending = await openWatch(
      `watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=${rv}&timeoutSeconds=1`,
      3000,
    );
    await call(
      "PATCH",
      `${DEPLOYMENTS}/web`,
      { metadata: { annotations: { "cutover.dev/version": "2" } } },
      "application/merge-patch+json",
    );
    await call(
      "PATCH",
      `${DEPLOYMENTS}/web`,
      { metadata: { annotations: { "cutover.dev/version": "2" } } },
      "application/merge-patch+json",
    );
    const events = await pending();
    expect(events.map((e) => e.type)).toEqual(["MODIFIED"]);
    expect(
      (events[0]?.object as { metadata?: { generation?: number } } | undefined)?.metadata?.generation,
    ).toBe(2); // annotations bump a Deployment's generation (§4)
  });

  it("starts with ADDED for what exists without a resourceVersion, and sends ERROR 410 Expired for a compacted one", async () => {
    standIn.simulator.stop();
    const created = await call("POST", DEPLOYMENTS, deployment("1"));
    const rv = (created.body.metadata as JsonObject).resourceVersion;
    expect((await watch("watch=1&timeoutSeconds=1", 3000)).map((e) => e.type)).toEqual(["ADDED"]);
    await call("PATCH", `${DEPLOYMENTS}/web`, { spec: { replicas: 2 } }, "application/merge-patch+json");
    standIn.server.store.compact();
    const events = await watch(`watch=true&resourceVersion=${rv}`, 3000);
    expect(events).toEqual([
      {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/),
          reason: "Expired",
          code: 410,
        },
      },
    ]);
  });

  it("sends DELETED when an update makes the object stop matching the label selector", async () => {
    await call("POST", SERVICES, {
      ...service({ app: "web" }),
      metadata: { name: "web", labels: { tier: "front" } },
    });
    const rv = (await call("GET", SERVICES)).body.metadata as JsonObject;
    // Its head comes once the watch is registered.
    const response = await fetch(
      `${standIn.url}${SERVICES}?watch=true&labelSelector=tier%3Dfront&resourceVersion=${rv.resourceVersion}&timeoutSeconds=1`,
      { headers: { authorization: "Bearer stand-in-token" } },
    );
    await call(
      "PATCH",
      `${SERVICES}/web`,
      { metadata: { labels: { tier: "back" } } },
      "application/merge-patch+json",
    );
    const lines = (await response.text())
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JsonObject);
    expect(lines.map((e) => e.type)).toEqual(["DELETED"]);
  });
});

describe("Deployment status, scale and readiness gates (§4, §6, §7)", () => {
  it("ignores status on the main resource, and serves the scale subresource with a resourceVersion precondition", async () => {
    standIn.simulator.stop();
    await call("POST", DEPLOYMENTS, deployment("1"));
    await call("PATCH", `${DEPLOYMENTS}/web`, { status: { replicas: 99 } }, "application/merge-patch+json");
    expect((await call("GET", `${DEPLOYMENTS}/web`)).body.status).toBeUndefined();
    const scale = await call("GET", `${DEPLOYMENTS}/web/scale`);
    expect(scale.body).toMatchObject({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      spec: { replicas: 1 },
      status: { replicas: 0, selector: "app=web" },
    });
    const rv = (scale.body.metadata as JsonObject).resourceVersion;
    expect(
      (
        await call(
          "PATCH",
          `${DEPLOYMENTS}/web/scale`,
          { spec: { replicas: 3 } },
          "application/merge-patch+json",
        )
      ).status,
    ).toBe(200);
    const live = (await call("GET", `${DEPLOYMENTS}/web`)).body;
    expect([(live.spec as JsonObject).replicas, (live.metadata as JsonObject).generation]).toEqual([3, 2]);
    const stale = await call(
      "PATCH",
      `${DEPLOYMENTS}/web/scale`,
      { metadata: { resourceVersion: rv }, spec: { replicas: 0 } },
      "application/merge-patch+json",
    );
    expect(stale.status).toBe(409);
  });

  it("reports ProgressDeadlineExceeded for a rollout whose pods never become ready", async () => {
    await standIn.close();
    standIn = await StandIn.start({ namespace: "web", behaviour: () => ({ readyAfterMs: null }) });
    await call("POST", DEPLOYMENTS, deployment("1", { progressDeadlineSeconds: 1 }));
    let progressing: JsonObject | undefined;
    for (let i = 0; i < 60 && progressing?.reason !== "ProgressDeadlineExceeded"; i++) {
      await sleep(50);
      const status = (await call("GET", `${DEPLOYMENTS}/web`)).body.status as JsonObject | undefined;
      progressing = (status?.conditions as JsonObject[] | undefined)?.find((c) => c.type === "Progressing");
    }
    expect(progressing).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: expect.stringMatching(/^ReplicaSet "web-\w+" has timed out progressing\.$/),
    });
  });

  it("merges pod status conditions by type under a strategic merge patch and computes Ready from the gates", async () => {
    await call(
      "POST",
      DEPLOYMENTS,
      deployment("1", {
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            readinessGates: [{ conditionType: "example.com/gate" }],
            containers: [{ name: "web", image: "web:1" }],
          },
        },
      }),
    );
    let pod: JsonObject | undefined;
    for (let i = 0; i < 60; i++) {
      await sleep(25);
      pod = ((await call("GET", "/api/v1/namespaces/web/pods")).body.items as JsonObject[])[0];
      const conditions = ((pod?.status as JsonObject)?.conditions as JsonObject[]) ?? [];
      if (conditions.some((c) => c.type === "ContainersReady" && c.status === "True")) break;
    }
    const name = String((pod?.metadata as { name?: string } | undefined)?.name);
    const ready = async () => {
      const status = (await call("GET", `/api/v1/namespaces/web/pods/${name}`)).body.status as JsonObject;
      return (status.conditions as JsonObject[]).find((c) => c.type === "Ready");
    };
    expect(await ready()).toMatchObject({ status: "False", reason: "ReadinessGatesNotReady" });
    const patch = { status: { conditions: [{ type: "example.com/gate", status: "True" }] } };
    expect(
      (
        await call(
          "PATCH",
          `/api/v1/namespaces/web/pods/${name}/status`,
          patch,
          "application/strategic-merge-patch+json",
        )
      ).status,
    ).toBe(200);
    const conditions = (
      ((await call("GET", `/api/v1/namespaces/web/pods/${name}`)).body.status as JsonObject)
        .conditions as JsonObject[]
    ).map((c) => c.type);
    expect(conditions).toEqual(
      expect.arrayContaining(["PodScheduled", "ContainersReady", "Ready", "example.com/gate"]),
    );
    for (let i = 0; i < 20 && (await ready())?.status !== "True"; i++) await sleep(25);
    expect((await ready())?.status).toBe("True");
  });
});

describe("the pod proxy subresource in simulated mode", () => {
  it("answers 503 as for a pod whose process does not listen (simulated pods have none), 404 for no pod", async () => {
    await call("POST", DEPLOYMENTS, deployment("1"));
    let name = "";
    for (let i = 0; i < 100 && !name; i++) {
      await sleep(20);
      const pod = ((await call("GET", "/api/v1/namespaces/web/pods")).body.items as JsonObject[])[0];
      if (pod && (pod.status as JsonObject | undefined)?.podIP)
        name = String((pod.metadata as JsonObject).name);
    }
    const unreachable = await call("GET", `/api/v1/namespaces/web/pods/${name}:8080/proxy/health`);
    expect(unreachable.body).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "ServiceUnavailable",
      message: expect.stringMatching(
        /^error trying to reach service: dial tcp 10\.244\.\d+\.\d+:8080: connect: connection refused$/,
      ),
      code: 503,
    });
    const missing = await call("GET", "/api/v1/namespaces/web/pods/nobody/proxy/health");
    expect(missing.body).toMatchObject({ code: 404, reason: "NotFound", message: 'pods "nobody" not found' });
  });
});
