/**
 * On Kubernetes a deploy runs in the `cutover deploy` process of a CI job, and that process can be stopped
 * (Ctrl-C, a cancelled job: SIGINT/SIGTERM) or killed outright (kill -9, a lost runner). Stopped, it aborts
 * its deploy itself. Killed, its lock is no longer renewed, and once the lease is over `cutover abort` from
 * another run closes the deploy as an abort in that process would have. The runner here is the real CLI in
 * a process of its own, against the stand-in API server.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { renderStatus } from "../../src/cli/render.js";
import { createKubernetesEngine } from "../../src/compose/kubernetes-engine.js";
import { parseConfig } from "../../src/config/load.js";
import { DeployInProgressError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { patchAs } from "../../src/platforms/kubernetes/kube-clients.js";
import { eventually } from "../helpers/eventually.js";
import { annotationsOf, cliDeploy, currentOf, lockOf, runningStepOf, stopCliRuns } from "./cli-run.js";
import { type ClusterFixture, historyOf, replicasOf, selectorOf, startCluster } from "./cluster-fixture.js";
import type { JsonObject } from "./stand-in/json.js";

let cluster: ClusterFixture | undefined;
afterEach(async () => {
  stopCliRuns();
  await cluster?.close();
  cluster = undefined;
});

/** Green's pods of 2.0.0 never pass their readiness probe: a deploy of it waits in wait-healthy. */
const stuckInWaitHealthy = {
  behaviour: ({ version }: { version: string }) => ({ readyAfterMs: version === "2.0.0" ? null : 40 }),
  deploy: { readyTimeout: "60s" },
};

describe("a deploy whose runner stops or dies", () => {
  it("SIGTERM (a cancelled job) aborts the deploy in that process: traffic stays, the lock is free at once", async () => {
    cluster = await startCluster(stuckInWaitHealthy);
    const c = cluster;
    const { child, exited } = cliDeploy(c, "2.0.0");
    await eventually("the CLI's deploy waits for green", () => runningStepOf(c) === "wait-healthy", 20_000);
    child.kill("SIGTERM");
    const exit = await exited;

    expect(exit.code, exit.stderr).toBe(1); // the deploy was aborted
    expect(exit.stderr).toContain("got SIGTERM; aborting d1");
    const [record] = historyOf(c.standIn) as unknown as JsonObject[];
    expect(record).toMatchObject({ id: "d1", phase: "Aborted" });
    expect(String(record?.reason)).toMatch(
      /^cutover got SIGTERM \(stopped by hand, or its job was cancelled\); traffic stayed on blue \(1\.0\.0\)/,
    );
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(replicasOf(c.standIn, "deployments", "shop-green")).toBe(0);
    expect(annotationsOf(c)["cutover.dev/lock"]).toBeUndefined();
    // Nothing to wait for: the next deploy starts at once.
    const { engine } = await c.engine();
    const next = await engine.deploy("2.0.1");
    expect(next.record.id).toBe("d2");
    expect((await next.done).phase).toBe("Healthy");
  }, 60_000);

  it("kill -9: refused while the lock is fresh; `cutover abort` waits for the lease, then closes the deploy", async () => {
    const leaseMs = 3_000;
    cluster = await startCluster({ ...stuckInWaitHealthy, kubernetes: { lockLease: "3s" } });
    const c = cluster;
    const { child, exited } = cliDeploy(c, "2.0.0");
    await eventually("the CLI's deploy waits for green", () => runningStepOf(c) === "wait-healthy", 20_000);
    // The runner renews its lock while it waits, every third of the lease.
    const first = lockOf(c);
    expect(first?.holder).toContain(`pid ${child.pid}`);
    await eventually("the lock is renewed", () => lockOf(c)?.renewedAt !== first?.renewedAt, leaseMs);
    expect(lockOf(c)?.token).toBe(first?.token);
    child.kill("SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");
    const renewedAt = Date.parse(lockOf(c)?.renewedAt ?? "");

    // Within the lease another run is told who holds the deploy and what to do; nothing is written.
    const other = await c.engine();
    // `cutover status` in another run names the runner and how fresh its lock was.
    expect(other.engine.status().deployHolder).toMatch(
      new RegExp(`pid ${child.pid} \\(lock renewed [\\d.]+m?s before this read\\)$`),
    );
    expect(renderStatus(other.engine.status())).toContain(`deploy in progress (run by `);
    await expect(other.engine.deploy("2.0.1")).rejects.toThrow(
      /is in progress \(phase Progressing\); it runs in .* pid \d+ \(lock renewed [\d.]+m?s ago\): wait for it, or run `cutover abort`, which asks that run to abort it/,
    );
    await expect(other.engine.deploy("2.0.1")).rejects.toBeInstanceOf(DeployInProgressError);
    expect(Date.now() - renewedAt).toBeLessThan(leaseMs); // the refusals above were within the lease
    expect(currentOf(c)?.phase).toBe("Progressing");

    // `cutover abort` within the lease asks the runner (the request shows on the Service), which never
    // answers; once its lock is older than the lease the abort closes the deploy itself.
    const closer = await c.engine();
    expect(Date.now() - renewedAt).toBeLessThan(leaseMs);
    const closing = closer.engine.abort();
    await eventually(
      "the abort asks the runner",
      () => annotationsOf(c)["cutover.dev/request"] !== undefined,
      2_000,
    );
    expect(JSON.parse(String(annotationsOf(c)["cutover.dev/request"]))).toMatchObject({
      action: "abort",
      deploy: "d1",
    });
    const closed = await closing;
    expect(closed.phase).toBe("Aborted");
    expect(closed.reason).toMatch(
      new RegExp(
        `^abandoned by .* pid ${child.pid}, whose lock was last renewed [\\d.]+s ago; closed by \`cutover abort\`; traffic stayed on blue \\(1\\.0\\.0\\)`,
      ),
    );
    expect(closed.steps.find((s) => s.name === "wait-healthy")?.state).toBe("failed");
    expect(historyOf(c.standIn).map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Aborted"]);
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(replicasOf(c.standIn, "deployments", "shop-green")).toBe(0);
    expect(annotationsOf(c)["cutover.dev/lock"]).toBeUndefined();
    expect(annotationsOf(c)["cutover.dev/request"]).toBeUndefined();
    const next = await (await c.engine()).engine.deploy("2.0.1");
    expect(next.record.id).toBe("d2");
    expect((await next.done).phase).toBe("Healthy");
  }, 60_000);

  it("kill -9 in the middle of the switch: `cutover abort` finds the selector moved and moves it back", async () => {
    cluster = await startCluster({
      kubernetes: { lockLease: "1s", switchProbe: { timeout: "30s" } },
      propagationMs: 20_000, // kube-proxy lags: the runner's switch probe is still waiting when it dies
    });
    const c = cluster;
    const { child, exited } = cliDeploy(c, "2.0.0");
    await eventually(
      "the selector is on green",
      () => selectorOf(c.standIn, "shop").version === "green",
      20_000,
    );
    expect(runningStepOf(c)).toBe("switch");
    child.kill("SIGKILL");
    await exited;
    const renewedAt = Date.parse(lockOf(c)?.renewedAt ?? "");
    await sleep(Math.max(0, renewedAt + 1_000 + 200 - Date.now()));

    const closer = await c.engine();
    expect(closer.engine.status().deployHolder).toMatch(/; abandoned \(lease 1\.00s\)\)$/);
    await expect(closer.engine.deploy("2.0.1")).rejects.toThrow(
      /it was abandoned by .* pid \d+, whose lock was last renewed [\d.]+m?s ago \(lease 1\.00s\): run `cutover abort` to close it \(traffic goes back to blue if it had switched\)/,
    );
    const closed = await closer.engine.abort();
    expect(closed.phase).toBe("Aborted");
    expect(closed.reason).toMatch(/^abandoned by .*; rolled back: traffic is on blue \(1\.0\.0\) again$/);
    expect(closed.rolledBackAt).toBeDefined();
    expect(closed.steps.find((s) => s.name === "switch")?.state).toBe("failed");
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    expect(historyOf(c.standIn).map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Aborted"]);
  }, 60_000);

  it("a lock an older cutover wrote (never renewed) is not taken as abandoned; removed by hand, `cutover abort` closes the deploy", async () => {
    cluster = await startCluster({ ...stuckInWaitHealthy, kubernetes: { lockLease: "1s" } });
    const c = cluster;
    const { child, exited } = cliDeploy(c, "2.0.0");
    await eventually("the CLI's deploy waits for green", () => runningStepOf(c) === "wait-healthy", 20_000);
    child.kill("SIGKILL");
    await exited;
    const closer = await c.engine();
    const annotate = (lock: string | null) =>
      closer.clients.core.patchNamespacedService(
        {
          name: "shop",
          namespace: closer.clients.namespace,
          body: { metadata: { annotations: { "cutover.dev/lock": lock } } },
        },
        patchAs.merge(),
      );
    await annotate("0f6c1d9e-token-of-an-older-cutover");
    await sleep(1_200); // past the lease: a renewed lock of this age would be abandoned
    await expect(closer.engine.abort()).rejects.toThrow(
      /it is held by another cutover with a lock that is never renewed \(written by an older cutover\); if that runner is gone, remove the lock \(`kubectl annotate service shop cutover\.dev\/lock-`\) and run `cutover abort`/,
    );
    expect(currentOf(c)?.phase).toBe("Progressing");
    await annotate(null); // what that kubectl command does
    const closed = await closer.engine.abort();
    expect(closed.reason).toMatch(
      /^abandoned by a cutover that left no lock; closed by `cutover abort`; traffic stayed on blue \(1\.0\.0\)/,
    );
    expect(replicasOf(c.standIn, "deployments", "shop-green")).toBe(0);
  }, 60_000);

  it("a run whose lock another run took over stops there: no switch, no record of its own", async () => {
    // The runner renews every 10 s (lease 30 s); the other run reckons with a 1 s lease, so it finds the
    // lock abandoned while the runner still works: what a runner whose API calls stalled would meet.
    cluster = await startCluster({
      kubernetes: { lockLease: "30s" },
      deploy: { smoke: [{ name: "slow check", command: "sleep 3" }] },
    });
    const c = cluster;
    const runner = await c.engine();
    const started = await runner.engine.deploy("2.0.0");
    await eventually("the runner is in its smoke checks", () => runningStepOf(c) === "smoke-checks", 10_000);
    await sleep(Math.max(0, Date.parse(lockOf(c)?.renewedAt ?? "") + 1_200 - Date.now()));
    const impatient = await createKubernetesEngine(
      parseConfig(c.yaml.replace("lockLease: 30s", "lockLease: 1s"), "/tmp/cutover-k8s/cutover.yaml"),
      silentLogger(),
      { pollMs: 50 },
    );
    const closed = await impatient.engine.abort();
    await impatient.close();
    expect(closed.reason).toMatch(/^abandoned by .*; closed by `cutover abort`; traffic stayed on blue/);

    const record = await started.done; // the runner's smoke check ends, and it finds the lock gone
    expect(record.phase).toBe("Aborted");
    // The runner finds out at its next write (after the smoke check: the lock is gone) or, on a busy machine
    // where the abort takes longer, at its next renewal (the other run's lock is still there): either way
    // it stops without a switch.
    expect(record.reason).toMatch(
      /^another cutover took over deploy d1 \(its lock is now held by (nobody \(the lock was removed\)|\S+ pid \d+)\); this run stopped and changed nothing more$/,
    );
    expect(record.switchedAt).toBeUndefined();
    const selectorPatches = c.standIn.server.requests.filter(
      (r) =>
        r.verb === "PATCH" &&
        r.path.endsWith("/services/shop") &&
        JSON.stringify(r.body).includes('"selector"'),
    );
    expect(selectorPatches).toEqual([]);
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    // The history holds the ending the other run recorded, once.
    const history = historyOf(c.standIn) as unknown as JsonObject[];
    expect(history.map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Aborted"]);
    expect(String(history[0]?.reason)).toMatch(/^abandoned by /);
    expect(currentOf(c)).toBeNull();
  }, 60_000);

  it("a run that only read the state (`cutover status`) writes nothing back when it ends", async () => {
    cluster = await startCluster({
      behaviour: ({ version }) => ({ readyAfterMs: version === "2.0.0" ? 1_000 : 40 }),
    });
    const c = cluster;
    const runner = await c.engine();
    const started = await runner.engine.deploy("2.0.0");
    await eventually("the deploy waits for green", () => runningStepOf(c) === "wait-healthy", 10_000);
    const status = await c.engine(); // reads d1 in progress
    expect(status.engine.status().deploy?.id).toBe("d1");
    expect((await started.done).phase).toBe("Healthy");
    await runner.settle(); // as `cutover deploy` does before it exits: the old colour's scale-down
    await status.close();
    expect(currentOf(c)).toBeNull();
    expect(annotationsOf(c)["cutover.dev/lock"]).toBeUndefined();
    const next = await (await c.engine()).engine.deploy("2.0.1");
    expect(next.record.id).toBe("d2");
    expect((await next.done).phase).toBe("Healthy");
  }, 60_000);
});
