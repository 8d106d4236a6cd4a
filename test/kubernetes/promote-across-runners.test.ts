/**
 * On Kubernetes there is no daemon: `cutover deploy` with manual promotion ends its process at Paused, and
 * a later `cutover promote` or `cutover abort` (another CI job, another person) takes the deploy over from
 * the state the cluster holds. Two engines on one stand-in play the two runs.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubernetesEngine } from "../../src/compose/kubernetes-engine.js";
import { EngineControl } from "../../src/control/engine-control.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import { eventually } from "../helpers/eventually.js";
import { cliDeploy, currentOf, runningStepOf as runningStep, stopCliRuns } from "./cli-run.js";
import { type ClusterFixture, historyOf, replicasOf, selectorOf, startCluster } from "./cluster-fixture.js";

let cluster: ClusterFixture | undefined;
afterEach(async () => {
  stopCliRuns();
  await cluster?.close();
  cluster = undefined;
});

const controlOf = (k: KubernetesEngine) =>
  new EngineControl({ engine: k.engine, finish: () => k.settle(), leave: () => k.platform.close() });

async function pausedByFirstRun(c: ClusterFixture): Promise<void> {
  const firstRun = controlOf(await c.engine());
  const phases: string[] = [];
  for await (const record of firstRun.follow("deploy", "2.0.0")) phases.push(record.phase);
  expect(phases.at(-1)).toBe("Paused");
  await firstRun.close();
  expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
}

describe("a paused deploy taken over by another runner", () => {
  it("promote from a second run switches the selector and records the deploy once", async () => {
    cluster = await startCluster({ deploy: { autoPromote: false } });
    await pausedByFirstRun(cluster);
    const secondRun = controlOf(await cluster.engine());
    expect((await secondRun.status()).deploy?.phase).toBe("Paused");
    const record = await secondRun.promote();
    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "promotion")?.detail).toBe("promoted by `cutover promote`");
    expect(selectorOf(cluster.standIn, "shop")).toEqual({ app: "shop", version: "green" });
    await secondRun.close();
    expect(replicasOf(cluster.standIn, "deployments", "shop-blue")).toBe(0);
    const history = (await (await cluster.engine()).engine.history()).map((r) => `${r.id} ${r.phase}`);
    expect(history).toEqual(["d1 Healthy"]);
  });

  it("abort from a second run scales the new colour back and leaves the selector alone", async () => {
    cluster = await startCluster({ deploy: { autoPromote: false } });
    await pausedByFirstRun(cluster);
    const secondRun = controlOf(await cluster.engine());
    const record = await secondRun.abort();
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/aborted by `cutover abort`; traffic stayed on blue \(1\.0\.0\)/);
    expect(selectorOf(cluster.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(replicasOf(cluster.standIn, "deployments", "shop-green")).toBe(0);
    // The lock is free again: a new deploy may start.
    const thirdRun = await cluster.engine();
    const started = await thirdRun.engine.deploy("2.0.1");
    expect(started.record.id).toBe("d2");
    await eventually("paused again", () => thirdRun.engine.status().deploy?.phase === "Paused");
  });
});

describe("a deploy another run holds, alive", () => {
  it("autoPromote with a delay: the run that paused waits out the delay itself and switches", async () => {
    cluster = await startCluster({ deploy: { autoPromote: "3s" }, kubernetes: { lockLease: "3s" } });
    const c = cluster;
    const { exited } = cliDeploy(c, "2.0.0");
    await eventually("the deploy is paused", () => currentOf(c)?.phase === "Paused", 20_000);
    expect(currentOf(c)?.resumesAt).toMatch(/Z$/);
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });

    const exit = await exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "green" });
    const history = historyOf(c.standIn) as unknown as DeployRecord[];
    expect(history.map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Healthy"]);
    expect(history[0]?.steps.find((s) => s.name === "promotion")?.detail).toBe("automatic after the delay");
    expect(history[0]?.resumesAt).toBeUndefined();
  }, 60_000);

  it("`cutover promote` from another run during that delay asks the run that paused, which switches at once", async () => {
    cluster = await startCluster({ deploy: { autoPromote: "5m" }, kubernetes: { lockLease: "3s" } });
    const c = cluster;
    const { exited } = cliDeploy(c, "2.0.0");
    await eventually("the deploy is paused", () => currentOf(c)?.phase === "Paused", 20_000);
    const other = controlOf(await c.engine());
    const record = await other.promote(); // waits for the answer: the holder reads requests as it renews
    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "promotion")?.detail).toMatch(
      /^promoted by `cutover promote` from .* pid \d+/,
    );
    const exit = await exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "green" });
    const annotations = (
      c.standIn.get("services", "shop")?.metadata as { annotations?: Record<string, string> }
    )?.annotations;
    expect(annotations?.["cutover.dev/request"]).toBeUndefined();
  }, 60_000);

  it("`cutover abort` from another run while the runner works asks it to abort: it stops its own deploy", async () => {
    cluster = await startCluster({
      behaviour: ({ version }) => ({ readyAfterMs: version === "2.0.0" ? null : 40 }),
      deploy: { readyTimeout: "60s" },
      kubernetes: { lockLease: "3s" },
    });
    const c = cluster;
    const { exited } = cliDeploy(c, "2.0.0");
    await eventually(
      "the deploy waits for green",
      () => currentOf(c)?.phase === "Progressing" && runningStep(c) === "wait-healthy",
      20_000,
    );
    const other = controlOf(await c.engine());
    const record = await other.abort();
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /^aborted by `cutover abort` from .* pid \d+; traffic stayed on blue \(1\.0\.0\)/,
    );
    const exit = await exited;
    expect(exit.code).toBe(1); // the runner's own deploy ended Aborted
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(replicasOf(c.standIn, "deployments", "shop-green")).toBe(0);
    expect(historyOf(c.standIn).map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Aborted"]);
  }, 60_000);
});
