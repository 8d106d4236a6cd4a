/**
 * A paused deploy taken over by a second engine on the same state, as a second CLI run does on Kubernetes
 * (there the cluster holds the state; here the files and the running processes stand in for it).
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { EngineControl } from "../../src/control/engine-control.js";
import { Engine } from "../../src/engine/engine.js";
import type { EngineOptions } from "../../src/engine/engine-options.js";
import { localStateStore } from "../../src/engine/file-state-store.js";
import { LocalPlatform } from "../../src/platforms/local/local-platform.js";
import { Router } from "../../src/router/router.js";
import { engineOptions } from "../helpers/engine-builder.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject } from "../helpers/project.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ options: EngineOptions; listen: number }> {
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
  cleanups.push(async () => {
    await platform.close();
    await router.close();
  });
  const options = engineOptions(
    config,
    { preview: config.router.preview, platform, router, store: localStateStore(stateDir) },
    {
      service: "testsvc",
      initialVersion: "1.0.0",
      replicas: 1,
      readyTimeoutMs: 10_000,
      scaleDownDelayMs: 60_000,
      drainTimeoutMs: 500,
      autoPromote: { mode: "off" },
      smoke: [],
    },
  );
  return { options, listen: project.listen };
}

async function pausedByAnotherProcess(options: EngineOptions): Promise<void> {
  const first = await Engine.open(options);
  await first.up();
  await first.deploy("2.0.0");
  await eventually("paused", () => first.status().deploy?.phase === "Paused");
  // The first CLI run ends here, leaving the deploy paused in the store.
}

const version = async (port: number) =>
  (await fetch(`http://127.0.0.1:${port}/`)).headers.get("x-app-version");

describe("resuming a paused deploy from another engine", () => {
  it("promote goes on from the paused step and switches", async () => {
    const { options, listen } = await setUp();
    await pausedByAnotherProcess(options);
    const second = await Engine.open(options);
    cleanups.push(() => second.close());
    expect(second.status().deploy?.phase).toBe("Paused");
    const record = await second.resume("promote");
    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "promotion")?.detail).toBe("promoted by `cutover promote`");
    expect(await version(listen)).toBe("2.0.0");
    expect(second.history().map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Healthy"]);
  });

  it("abort stops the new colour and leaves traffic where it was", async () => {
    const { options, listen } = await setUp();
    await pausedByAnotherProcess(options);
    const second = await Engine.open(options);
    cleanups.push(() => second.close());
    const record = await second.resume("abort");
    expect(record.phase).toBe("Aborted");
    expect(record.steps.find((s) => s.name === "promotion")?.state).toBe("failed");
    expect(await version(listen)).toBe("1.0.0");
    expect(options.platform.status("green").replicas).toEqual([]);
    await expect(second.resume("promote")).rejects.toThrow(/no deploy is in progress/);
  });

  it("through the CLI's in-process control plane: follow ends at Paused, a later run promotes", async () => {
    const { options, listen } = await setUp();
    const first = await Engine.open(options);
    await first.up();
    const firstRun = new EngineControl({ engine: first });
    const phases: string[] = [];
    for await (const record of firstRun.follow("deploy", "2.0.0")) phases.push(record.phase);
    expect(phases.at(-1)).toBe("Paused");
    expect(phases.slice(0, -1).every((p) => p === "Progressing")).toBe(true);
    await firstRun.close();
    expect(await version(listen)).toBe("1.0.0");

    const secondRun = new EngineControl({ engine: await Engine.open(options) });
    expect((await secondRun.status()).deploy?.phase).toBe("Paused");
    const promoted = await secondRun.promote();
    expect(promoted.phase).toBe("Healthy");
    expect(await version(listen)).toBe("2.0.0");
    await secondRun.close();
  });
});
