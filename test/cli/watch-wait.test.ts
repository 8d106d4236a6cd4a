import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { changeKey } from "../../src/cli/render.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { eventually } from "../helpers/eventually.js";
import { CLI, makeProject, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
const watchers: ChildProcess[] = [];
afterEach(async () => {
  for (const child of watchers.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const project of started.splice(0)) await runCli(project, "down");
});

async function up(project: Project): Promise<void> {
  started.push(project);
  const result = await runCli(project, "up");
  if (result.code !== 0 || result.stderr !== "") throw new Error(`up failed: ${result.stderr}`);
}

/** A long-running CLI command (stdout piped: not a terminal), its output collected as it comes. */
function watch(project: Project, ...args: string[]) {
  const child = spawn(process.execPath, [CLI, "--config", project.config, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  watchers.push(child);
  const seen = { stdout: "", stderr: "" };
  child.stdout?.on("data", (c: Buffer) => {
    seen.stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    seen.stderr += c.toString();
  });
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  const lines = () => seen.stdout.split("\n").filter(Boolean);
  return { child, seen, exited, lines };
}

describe("cutover wait and status --watch", () => {
  it("wait exits 0 once a deploy is Healthy; status --watch prints one line per change, not per event", {
    timeout: 120_000,
  }, async () => {
    const project = await makeProject();
    project.release("2.0.0");
    await up(project);
    const human = watch(project, "status", "--watch");
    const json = watch(project, "--json", "status", "--watch");
    await eventually(
      "both watchers showed the status",
      () => human.lines().length > 0 && json.lines().length > 0,
      20_000,
    );

    const detached = await runCli(project, "deploy", "2.0.0", "--detach");
    expect(detached.code).toBe(0);
    const waited = await runCli(project, "wait");
    expect(waited.stdout).toMatch(/d1 deploy 2\.0\.0\s+Healthy/);
    expect(waited.code).toBe(0);
    // Waiting for a deploy that has ended answers at once, with the same exit code.
    expect((await runCli(project, "wait", "--timeout", "5s")).code).toBe(0);

    // The watchers see the deploy end and the old colour scaled down (scaleDownDelay 1s).
    const settled = (s: ServiceStatus) =>
      s.deploy === null && s.lastDeploy?.phase === "Healthy" && s.colours.blue.replicas.length === 0;
    const statuses = () => json.lines().map((l) => JSON.parse(l) as ServiceStatus);
    await eventually("the JSON watcher saw blue scaled down", () => statuses().some(settled), 30_000);
    await eventually(
      "the line watcher saw blue scaled down",
      () => /blue - 0\/0.*last d1 deploy 2\.0\.0 Healthy/.test(human.lines().at(-1) ?? ""),
      30_000,
    );
    json.child.kill("SIGINT");
    human.child.kill("SIGINT");
    expect(await json.exited).toBe(0);
    expect(await human.exited).toBe(0);

    // --json: one status per change: no two lines in a row say the same.
    const keys = statuses().map(changeKey);
    for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]);
    expect(statuses()[0]?.active).toBe("blue");
    expect(statuses().at(-1)?.active).toBe("green");

    // Without --json, one line per change too: never the same line twice in a row, and no more lines than
    // the deploy made changes (each step starts and ends, the phase moves, each replica goes through its states).
    const lines = human.lines().map((l) => l.replace(/^\S+\s+/, ""));
    for (let i = 1; i < lines.length; i++) expect(lines[i]).not.toBe(lines[i - 1]);
    const record = statuses().find(settled)?.lastDeploy;
    const steps = record?.steps ?? [];
    const ran = steps.filter((s) => s.state === "succeeded").map((s) => s.name);
    expect(ran.length).toBeGreaterThan(2);
    // Each step that ran shows as the running one (each engine event is a change of its own).
    for (const step of ran) expect(lines.some((l) => l.includes(`Progressing ${step} running`))).toBe(true);
    // At most: the first status, each step starting and ending, 3 phase changes, and the replicas' states
    // (green-0 starting, ready; blue-0 stopping, gone) with the live colour moving.
    expect(lines.length).toBeLessThanOrEqual(1 + 2 * steps.length + 3 + 8);
    expect(lines.some((l) => /d1 deploy 2\.0\.0 Progressing/.test(l))).toBe(true);
    expect(human.seen.stderr).toBe("");
  });

  it("wait exits 1 when the deploy aborts", { timeout: 90_000 }, async () => {
    // Long enough for `up` on a busy machine; the deploy of the unhealthy version aborts after it.
    const project = await makeProject({ readyTimeout: "5s" });
    project.release("2.0.0", { FAIL_HEALTH: "1" });
    await up(project);
    expect((await runCli(project, "deploy", "2.0.0", "--detach")).code).toBe(0);
    const waited = await runCli(project, "wait", "--timeout", "60s");
    expect(waited.stdout).toMatch(/d1 deploy 2\.0\.0\s+Aborted/);
    expect(waited.code).toBe(1);
  });

  it("a deploy paused for a person: wait --timeout 1s exits 2 saying so; wait without one ends on promote", {
    timeout: 90_000,
  }, async () => {
    const project = await makeProject({ deploy: "  autoPromote: false" });
    project.release("2.0.0");
    await up(project);
    const deploy = await runCli(project, "deploy", "2.0.0");
    expect(deploy.stderr).toMatch(/Paused/);
    const timedOut = await runCli(project, "wait", "--timeout", "1s");
    expect(timedOut.code).toBe(2);
    expect(timedOut.stderr).toMatch(/waiting for `cutover promote`/);
    expect(timedOut.stderr).toMatch(/timed out after 1\.00s: d1 is still Paused/);

    const waiting = watch(project, "wait");
    await eventually(
      "wait said it waits for promote",
      () => /waiting for `cutover promote`/.test(waiting.seen.stderr),
      20_000,
    );
    expect((await runCli(project, "promote")).code).toBe(0);
    expect(await waiting.exited).toBe(0);
    expect(waiting.seen.stdout).toMatch(/d1 deploy 2\.0\.0\s+Healthy/);

    const bad = await runCli(project, "wait", "--timeout", "soon");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout expects a duration/);
  });

  it("status --watch says when the daemon goes away and exits 1", { timeout: 90_000 }, async () => {
    const project = await makeProject();
    await up(project);
    const watcher = watch(project, "status", "--watch");
    await eventually("the watcher showed the status", () => watcher.lines().length > 0, 20_000);
    expect((await runCli(project, "down")).code).toBe(0);
    expect(await watcher.exited).toBe(1);
    expect(watcher.seen.stderr).toMatch(/the daemon went away/);
  });
});
