import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { CLI, makeProject, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const project of started.splice(0)) await runCli(project, "down");
});

describe("cutover logs, and status and history with the daemon down", () => {
  it("reads what .cutover/ recorded once the daemon is down; logs -f follows appended lines through a rotation", {
    timeout: 120_000,
  }, async () => {
    const project = await makeProject();
    project.release("2.0.0");
    started.push(project);
    expect((await runCli(project, "up")).code).toBe(0);
    expect((await runCli(project, "deploy", "2.0.0")).code).toBe(0);
    expect((await runCli(project, "down")).code).toBe(0);

    const status = await runCli(project, "status");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/daemon not running/);
    expect(status.stdout).toMatch(/live: green/);
    expect(status.stdout).toMatch(/green\s+active\s+2\.0\.0/);
    expect(status.stdout).toMatch(/blue\s+idle\s+1\.0\.0/);
    expect(status.stdout).toMatch(/last: d1 deploy 2\.0\.0\s+Healthy/);
    const json = JSON.parse((await runCli(project, "--json", "status")).stdout) as Record<string, unknown>;
    expect(json.daemon).toBe("not running");
    expect(json.active).toBe("green");

    const history = await runCli(project, "history");
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/d1 deploy 2\.0\.0\s+Healthy/);
    expect(history.stderr).toMatch(/daemon is not running/);

    // The live colour's log by default, with the supervisor's lines and the service's.
    const logs = await runCli(project, "logs", "--lines", "500");
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/green-0: starting version 2\.0\.0/);
    const blue = await runCli(project, "logs", "blue", "--lines", "2");
    expect(blue.code).toBe(0);
    expect(blue.stdout.trim().split("\n")).toHaveLength(2);
    expect((await runCli(project, "logs", "daemon")).stdout).toMatch(/"msg"/);
    const missing = await runCli(project, "logs", "blue", "--replica", "7");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no log at .*blue-7\.log \(there are: blue-0\.log, green-0\.log\)/);
    expect((await runCli(project, "logs", "purple")).code).toBe(2);

    const file = join(project.dir, ".cutover/logs/blue-0.log");
    const follower = spawn(
      process.execPath,
      [CLI, "--config", project.config, "logs", "blue", "-f", "--lines", "1"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(follower);
    let out = "";
    follower.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    await eventually("logs -f printed the last line", () => out.length > 0, 20_000);
    appendFileSync(file, "appended while following\n");
    await eventually(
      "logs -f printed the appended line",
      () => out.includes("appended while following\n"),
      20_000,
    );
    // A rotation: the last line written to the old file, then the new file.
    appendFileSync(file, "last line before the rotation\n");
    renameSync(file, `${file}.1`);
    appendFileSync(file, "first line after the rotation\n");
    await eventually(
      "logs -f followed the rotation",
      () => out.includes("first line after the rotation\n"),
      20_000,
    );
    expect(out).toContain("last line before the rotation\n");
    expect(out.indexOf("last line before")).toBeLessThan(out.indexOf("first line after"));
    follower.kill("SIGINT");
  });

  it("status and history still exit 1 when nothing was recorded", async () => {
    const project = await makeProject();
    for (const command of ["status", "history"]) {
      const result = await runCli(project, command);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/daemon is not running.*cutover up/);
    }
    expect(existsSync(join(project.dir, ".cutover"))).toBe(false);
    const logs = await runCli(project, "logs");
    expect(logs.code).toBe(1);
    expect(logs.stderr).toMatch(/blue has not run yet/);
  });

  it("on Kubernetes, logs points to kubectl logs with the manifests' labels", async () => {
    const project = await makeProject();
    writeFileSync(
      project.config,
      "service: testsvc\nversion: 1.0.0\nplatform: kubernetes\nkubernetes:\n  image: registry.example.com/app:{version}\n  namespace: shop\n",
    );
    const logs = await runCli(project, "logs", "green");
    expect(logs.stderr).toMatch(/kubectl logs -l app=testsvc,version=green --namespace shop/);
    expect(logs.code).toBe(2);
  });
});
