/**
 * How the engine acts on analysis verdicts. The analysis here is scripted (it returns the verdict the test
 * names, after real traffic ran); everything else is real: router, replicas, state on disk.
 */

import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Engine } from "../../src/engine/engine.js";
import { localStateStore } from "../../src/engine/file-state-store.js";
import type {
  AnalysisContext,
  AnalysisOutcome,
  DeployAnalysis,
} from "../../src/engine/ports/deploy-analysis.js";
import { LocalPlatform } from "../../src/platforms/local/local-platform.js";
import { Router } from "../../src/router/router.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { engineOptions } from "../helpers/engine-builder.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject } from "../helpers/project.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class ScriptedAnalysis implements DeployAnalysis {
  readonly calls: string[] = [];
  constructor(
    readonly pre: AnalysisOutcome | null,
    readonly post: AnalysisOutcome | null,
    readonly postDelayMs = 300,
  ) {}
  async preSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    this.calls.push(`pre ${context.baseline}->${context.canary}`);
    return this.pre;
  }
  async postSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    this.calls.push(`post ${context.baseline}->${context.canary}`);
    await sleep(this.postDelayMs);
    context.signal.throwIfAborted();
    return this.post;
  }
}

async function startEngine(analysis: DeployAnalysis, extra: { keepFailedColour?: boolean } = {}) {
  const project = await makeProject();
  project.release("2.0.0");
  const { config, stateDir, dir } = loadConfig(project.config);
  const router = new Router({
    listen: config.router.listen,
    preview: config.router.preview,
    sticky: false,
    initialActive: "blue",
  });
  const platform = new LocalPlatform({
    start: config.start,
    health: config.health,
    cwd: dir,
    logDir: join(stateDir, "logs"),
  });
  platform.onEndpoints((colour, endpoints) => router.setEndpoints(colour, endpoints));
  await router.start();
  const engine = await Engine.open(
    engineOptions(
      config,
      { preview: config.router.preview, platform, router, store: localStateStore(stateDir), analysis },
      {
        service: "testsvc",
        initialVersion: "1.0.0",
        replicas: 1,
        readyTimeoutMs: 10_000,
        scaleDownDelayMs: 500,
        drainTimeoutMs: 1000,
        autoPromote: { mode: "on" },
        smoke: [],
        ...extra,
      },
    ),
  );
  cleanups.push(async () => {
    await engine.close();
    await platform.close();
    await router.close();
  });
  await engine.up();
  const load = new LoadGenerator({
    url: `http://127.0.0.1:${project.listen}`,
    connections: 4,
    maxDurationMs: 20_000,
    maxRequests: 200_000,
  });
  load.start();
  cleanups.push(async () => void (await load.stop()));
  return { engine, platform, load, project };
}

const version = async (port: number) =>
  (await fetch(`http://127.0.0.1:${port}/`)).headers.get("x-app-version");

describe("the engine acting on analysis", () => {
  it("a Fail after the switch moves traffic back at once and keeps the failed colour for inspection", async () => {
    const analysis = new ScriptedAnalysis(
      { verdict: "Pass", summary: "shadow traffic alike" },
      { verdict: "Fail", summary: "error rate 5.1% vs 0.0%" },
    );
    const { engine, load, project } = await startEngine(analysis);
    const record = await (await engine.deploy("2.0.0")).done;
    const summary = summarise(await load.stop());

    expect(analysis.calls).toEqual(["pre blue->green", "post blue->green"]);
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /post-switch analysis: Fail: error rate 5\.1% vs 0\.0%; rolled back: traffic is on blue \(1\.0\.0\) again/,
    );
    expect(record.switchedAt).toBeDefined();
    expect(record.rolledBackAt).toBeDefined();
    expect(record.steps.find((s) => s.name === "post-analysis")?.state).toBe("failed");
    expect(engine.active).toBe("blue");
    expect(await version(project.listen)).toBe("1.0.0");
    expect(summary.failed).toBe(0);
    // Kept for inspection: green still runs, on the preview address, and no scale-down is left to stop it.
    expect(engine.status().colours.green.scaleDownAt).toBeNull();
    await engine.scaleDownsDone();
    expect(engine.status().colours.green.replicas.map((r) => r.state)).toEqual(["ready"]);
    expect(await version(project.preview)).toBe("2.0.0");
  });

  it("with keepFailedColour false the failed colour is scaled down after the delay", async () => {
    const analysis = new ScriptedAnalysis(null, { verdict: "Fail", summary: "p99 2.1x blue" });
    const { engine } = await startEngine(analysis, { keepFailedColour: false });
    expect((await (await engine.deploy("2.0.0")).done).phase).toBe("Aborted");
    await eventually("green scaled down", () => engine.status().colours.green.replicas.length === 0, 5000);
  });

  it("a Fail before the switch aborts without moving traffic", async () => {
    const analysis = new ScriptedAnalysis({ verdict: "Fail", summary: "mirrored p99 3x" }, null);
    const { engine, project } = await startEngine(analysis);
    const record = await (await engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Aborted");
    expect(record.switchedAt).toBeUndefined();
    expect(record.reason).toMatch(/pre-switch analysis: Fail: mirrored p99 3x; traffic stayed on blue/);
    expect(await version(project.listen)).toBe("1.0.0");
    expect(engine.status().colours.green.replicas).toEqual([]);
  });

  it("Inconclusive after the switch pauses for a person; promote keeps the new version", async () => {
    const analysis = new ScriptedAnalysis(null, { verdict: "Inconclusive", summary: "12 requests, need 50" });
    const { engine, project } = await startEngine(analysis);
    const { done } = await engine.deploy("2.0.0");
    await eventually("paused", () => engine.status().deploy?.phase === "Paused");
    expect(engine.status().deploy?.reason).toMatch(
      /inconclusive \(12 requests, need 50\); `cutover promote` to keep/,
    );
    expect(await version(project.listen)).toBe("2.0.0");
    await engine.promote();
    const record = await done;
    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "post-analysis")?.detail).toMatch(
      /accepted by `cutover promote`/,
    );
  });

  it("abort during post-switch analysis rolls traffic back", async () => {
    const analysis = new ScriptedAnalysis(null, { verdict: "Pass", summary: "alike" }, 5000);
    const { engine, project, load } = await startEngine(analysis);
    const { done } = await engine.deploy("2.0.0");
    await eventually("switched", () => engine.active === "green");
    const record = await engine.abort();
    expect((await done).id).toBe(record.id);
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/aborted by `cutover abort`; rolled back/);
    expect(await version(project.listen)).toBe("1.0.0");
    expect(summarise(await load.stop()).failed).toBe(0);
  });
});
