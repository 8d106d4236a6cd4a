import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon/daemon.js";
import { DeployInProgressError } from "../../src/errors.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { startDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject, type Project } from "../helpers/project.js";

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop();
  daemon = null;
});

function loadOn(project: Project): LoadGenerator {
  const load = new LoadGenerator({
    url: `http://127.0.0.1:${project.listen}`,
    connections: 8,
    maxDurationMs: 30_000,
    maxRequests: 500_000,
  });
  load.start();
  return load;
}

describe("a deploy, end to end in one process", () => {
  it("switches to the new version under load without losing a request, then scales the old colour down", async () => {
    const project = await makeProject({ replicas: 2 });
    project.release("2.0.0");
    daemon = await startDaemon(project);
    const load = loadOn(project);
    const { done } = await daemon.engine.deploy("2.0.0");
    const record = await done;
    await sleep(300);
    const samples = await load.stop();
    const summary = summarise(samples);

    expect(record.phase).toBe("Healthy");
    expect(record.steps.map((s) => [s.name, s.state])).toEqual([
      ["migrate-expand", "skipped"],
      ["start-idle", "succeeded"],
      ["wait-healthy", "succeeded"],
      ["smoke-checks", "skipped"],
      ["pre-analysis", "skipped"],
      ["promotion", "succeeded"],
      ["switch", "succeeded"],
      ["post-analysis", "skipped"],
    ]);
    expect(summary.failed).toBe(0);
    expect(summary.byVersion["1.0.0"]).toBeGreaterThan(0);
    expect(summary.byVersion["2.0.0"]).toBeGreaterThan(0);
    // Once the switch is done, no request that started after it was answered by the old version.
    const switchedAt = Date.parse(record.switchedAt ?? "");
    expect(samples.filter((s) => s.sentAt > switchedAt + 5 && s.version === "1.0.0")).toEqual([]);

    const status = daemon.engine.status();
    expect(status.active).toBe("green");
    expect(status.colours.green.version).toBe("2.0.0");
    expect(status.colours.blue.scaleDownAt).not.toBeNull();
    await eventually(
      "blue scaled down",
      () => daemon?.engine.status().colours.blue.replicas.length === 0,
      8000,
    );
    expect(daemon.engine.status().colours.blue.running).toBe(false);
    expect(daemon.engine.history().map((r) => r.phase)).toEqual(["Healthy"]);
  });

  it("aborts a green that never becomes healthy: blue serves every request and green is stopped", async () => {
    // FAIL_HEALTH never passes, so the deploy always ends at readyTimeout; 6 s leaves a busy machine time
    // to start the app and have it answer its 503, which the reason must name.
    const project = await makeProject({ replicas: 1, readyTimeout: "6s" });
    project.release("2.0.0", { FAIL_HEALTH: "1" });
    daemon = await startDaemon(project);
    const load = loadOn(project);
    const record = await (await daemon.engine.deploy("2.0.0")).done;
    const summary = summarise(await load.stop());

    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/not ready|health/i);
    expect(record.reason).toMatch(/503/);
    expect(record.reason).toMatch(/traffic stayed on blue \(1\.0\.0\)/);
    expect(summary.failed).toBe(0);
    expect(Object.keys(summary.byVersion)).toEqual(["1.0.0"]);
    const status = daemon.engine.status();
    expect(status.active).toBe("blue");
    expect(status.colours.green.replicas).toEqual([]);
    // The version that failed never served: it is not something to roll back to.
    expect(status.colours.green.recordedVersion).toBeNull();
    await expect(daemon.engine.rollback()).rejects.toThrow(/nothing to roll back to/);
  });

  it("restarts a green replica killed with SIGKILL during the deploy, and the deploy goes on", async () => {
    const project = await makeProject({ replicas: 1 });
    project.release("2.0.0", { SLOW_START_S: "1" });
    daemon = await startDaemon(project);
    const load = loadOn(project);
    const { done } = await daemon.engine.deploy("2.0.0");
    await eventually(
      "green replica spawned",
      () => (daemon?.engine.status().colours.green.replicas[0]?.pid ?? null) !== null,
    );
    const pid = daemon.engine.status().colours.green.replicas[0]?.pid as number;
    process.kill(pid, "SIGKILL");
    const record = await done;
    const summary = summarise(await load.stop());

    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "wait-healthy")?.detail).toMatch(/1 restart/);
    expect(daemon.engine.status().colours.green.replicas[0]?.restarts).toBe(1);
    expect(summary.failed).toBe(0);
  });

  it("switches only once a green replica that crashed after wait-healthy is ready again: no request fails", async () => {
    const project = await makeProject({ replicas: 1, deploy: '  smoke:\n    - command: "sleep 1"' });
    project.release("2.0.0", { SLOW_START_S: "3" });
    daemon = await startDaemon(project);
    const load = loadOn(project);
    const { done } = await daemon.engine.deploy("2.0.0");
    const running = () => daemon?.engine.status().deploy?.steps.find((s) => s.state === "running")?.name;
    await eventually("the smoke checks running", () => running() === "smoke-checks", 20_000);
    // Green passed wait-healthy; it crashes now and needs 3 s to be ready again, the smoke check 1 s.
    process.kill(daemon.engine.status().colours.green.replicas[0]?.pid as number, "SIGKILL");
    const record = await done;
    await sleep(300);
    const summary = summarise(await load.stop());

    expect(record.phase).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "switch")?.detail).toMatch(
      /after waiting .+ for green's replicas to be ready again/,
    );
    expect(summary.failed).toBe(0);
    expect(summary.byVersion["2.0.0"]).toBeGreaterThan(0);
  });

  it("refuses a second deploy while one runs, naming the one in progress", async () => {
    const project = await makeProject({ replicas: 1, deploy: "  autoPromote: false" });
    project.release("2.0.0");
    project.release("3.0.0");
    daemon = await startDaemon(project);
    const first = await daemon.engine.deploy("2.0.0");
    await expect(daemon.engine.deploy("3.0.0")).rejects.toThrow(DeployInProgressError);
    await expect(daemon.engine.deploy("3.0.0")).rejects.toThrow(
      /deploy d1 of version 2\.0\.0 is in progress/,
    );
    await eventually("paused", () => daemon?.engine.status().deploy?.phase === "Paused");
    expect(daemon.engine.status().deploy?.reason).toMatch(/cutover promote/);
    const aborted = await daemon.engine.abort();
    expect(aborted.phase).toBe("Aborted");
    expect(aborted.reason).toMatch(/aborted by `cutover abort`/);
    expect((await first.done).id).toBe(aborted.id);
    expect(daemon.engine.status().colours.green.replicas).toEqual([]);
    expect(daemon.engine.status().active).toBe("blue");
  });

  it("pauses for promotion, then switches on promote", async () => {
    const project = await makeProject({ replicas: 1, deploy: "  autoPromote: false" });
    project.release("2.0.0");
    daemon = await startDaemon(project);
    const { done } = await daemon.engine.deploy("2.0.0");
    await eventually("paused", () => daemon?.engine.status().deploy?.phase === "Paused");
    // While paused, the preview address serves the new version and users still get the old one.
    const preview = await fetch(`http://127.0.0.1:${project.preview}/`);
    expect(preview.headers.get("x-app-version")).toBe("2.0.0");
    const live = await fetch(`http://127.0.0.1:${project.listen}/`);
    expect(live.headers.get("x-app-version")).toBe("1.0.0");
    const promoted = await daemon.engine.promote();
    expect(promoted.phase).toBe("Healthy");
    expect(promoted.steps.find((s) => s.name === "promotion")?.detail).toMatch(/promoted by/);
    expect((await done).phase).toBe("Healthy");
    const after = await fetch(`http://127.0.0.1:${project.listen}/`);
    expect(after.headers.get("x-app-version")).toBe("2.0.0");
  });

  it("aborts when a smoke check against the preview address fails", async () => {
    const project = await makeProject({
      replicas: 1,
      deploy: "  smoke:\n    - http: { path: /, bodyContains: 'no such text' }",
    });
    project.release("2.0.0");
    daemon = await startDaemon(project);
    const record = await (await daemon.engine.deploy("2.0.0")).done;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/smoke check "GET \/" failed: body does not contain/);
    expect(daemon.engine.status().active).toBe("blue");
  });

  it("rolls back at once while the old colour is warm, and restarts it when it was scaled down", async () => {
    const project = await makeProject({ replicas: 1 });
    project.release("2.0.0");
    daemon = await startDaemon(project);
    await (await daemon.engine.deploy("2.0.0")).done;

    const warm = await (await daemon.engine.rollback()).done;
    expect(warm.phase).toBe("Healthy");
    expect(warm.steps[0]?.detail).toMatch(/still warm/);
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("1.0.0");

    await eventually(
      "green scaled down",
      () => daemon?.engine.status().colours.green.replicas.length === 0,
      8000,
    );
    const cold = await (await daemon.engine.rollback()).done;
    expect(cold.phase).toBe("Healthy");
    expect(cold.steps[0]?.detail).toMatch(/was cold/);
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("2.0.0");
    expect(daemon.engine.history().map((r) => `${r.kind}:${r.phase}`)).toEqual([
      "deploy:Healthy",
      "rollback:Healthy",
      "rollback:Healthy",
    ]);
  });
});
