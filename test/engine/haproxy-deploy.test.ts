/**
 * The same deploy and rollback guarantees as with the built-in router, with `router.dataPlane: haproxy`:
 * the daemon starts a real HAProxy and drives it only through its runtime API.
 */

import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon/daemon.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { startDaemon } from "../helpers/daemon.js";
import { makeProject } from "../helpers/project.js";

const haproxy = (() => {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop();
  daemon = null;
});

describe("with HAProxy as the data plane", () => {
  it.runIf(process.env.CI === "true")("has the haproxy binary under CI", () => {
    expect(haproxy, "haproxy is not installed: .ci/run installs it from Debian's packages").toBe(true);
  });

  it.skipIf(!haproxy)("deploys and rolls back under load without losing a request", async () => {
    const project = await makeProject({ replicas: 2, router: "  dataPlane: haproxy" });
    project.release("2.0.0");
    daemon = await startDaemon(project);
    const load = new LoadGenerator({
      url: `http://127.0.0.1:${project.listen}`,
      connections: 16,
      maxDurationMs: 40_000,
      maxRequests: 1_000_000,
    });
    load.start();
    const deployed = await (await daemon.engine.deploy("2.0.0")).done;
    await sleep(300);
    const rolledBack = await (await daemon.engine.rollback()).done;
    await sleep(300);
    const samples = await load.stop();
    const summary = summarise(samples);

    expect(deployed.phase).toBe("Healthy");
    expect(rolledBack.phase).toBe("Healthy");
    expect(summary.failed, JSON.stringify(summary.errors)).toBe(0);
    expect(summary.byVersion["2.0.0"]).toBeGreaterThan(0);
    expect(samples.at(-1)?.version).toBe("1.0.0");
    // Causal bounds, no margins: the switch step starts before `set map` is sent and ends once HAProxy
    // acknowledged it. A request sent after the deploy's switch ended and answered before the rollback's
    // began can only have met the new map; one sent after the rollback's switch ended, only the old.
    // The steps' times are whole milliseconds (ISO strings): 1 ms covers their rounding.
    const switchStep = (record: typeof deployed) => record.steps.find((s) => s.name === "switch");
    const switched = Date.parse(switchStep(deployed)?.endedAt ?? "") + 1;
    const backFrom = Date.parse(switchStep(rolledBack)?.startedAt ?? "");
    const back = Date.parse(switchStep(rolledBack)?.endedAt ?? "") + 1;
    const between = samples.filter((s) => s.sentAt > switched && s.endedAt < backFrom);
    expect(between.length).toBeGreaterThan(0);
    expect(between.filter((s) => s.version !== "2.0.0")).toEqual([]);
    expect(samples.filter((s) => s.sentAt > back && s.version !== "1.0.0")).toEqual([]);
    expect(await daemon.router.metrics()).toMatch(/cutover_switches_total/);
  });
});
