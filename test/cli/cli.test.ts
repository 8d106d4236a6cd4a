import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DaemonInfo } from "../../src/daemon/state-files.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { hexOfPort, listeningAddresses } from "../helpers/listening-sockets.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
afterEach(async () => {
  for (const project of started.splice(0)) await runCli(project, "down");
});

async function up(project: Project): Promise<void> {
  started.push(project);
  const result = await runCli(project, "up");
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
}

const daemonInfo = (p: Project) =>
  JSON.parse(readFileSync(join(p.dir, ".cutover/daemon.json"), "utf8")) as DaemonInfo;

describe("the cutover CLI", () => {
  it("init writes a commented config, refuses to overwrite it, and schema prints JSON Schema", async () => {
    const project = await makeProject();
    const fresh = { config: join(project.dir, "new", "cutover.yaml") };
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(project.dir, "new"));
    expect((await runCli(fresh, "init")).code).toBe(0);
    expect(readFileSync(fresh.config, "utf8")).toMatch(/# Starts ONE replica/);
    const again = await runCli(fresh, "init");
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    const schema = await runCli(fresh, "schema");
    expect(JSON.parse(schema.stdout).properties.service.type).toBe("string");
  });

  it("exits 2 on a bad cutover.yaml, naming each bad field, and starts nothing", async () => {
    const project = await makeProject();
    writeFileSync(
      project.config,
      `service: testsvc\nversion: 1.0.0\nreplicas: many\nstart:\n  command: "sh x"\nrouter:\n  listen: 127.0.0.1:${project.listen}\n  drainTimeout: soon\n`,
    );
    const result = await runCli(project, "up");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/replicas: .*got "many"/);
    expect(result.stderr).toMatch(/router.drainTimeout: expected a duration.*got "soon"/);
    expect(existsSync(join(project.dir, ".cutover/daemon.json"))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${project.listen}/`)).rejects.toThrow();
  });

  it("exits 2 on a bad argument and 1 when no daemon runs", async () => {
    const project = await makeProject();
    const unknown = await runCli(project, "deploy");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/missing required argument 'version'/);
    const none = await runCli(project, "status");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/daemon is not running.*cutover up/);
  });

  it("up, deploy, status, history, rollback, down", { timeout: 150_000 }, async () => {
    const project = await makeProject({ replicas: 2 });
    project.release("2.0.0");
    await up(project);
    expect(statSync(join(project.dir, ".cutover/token")).mode & 0o777).toBe(0o600);
    const before = await fetch(`http://127.0.0.1:${project.listen}/`);
    expect(before.headers.get("x-app-version")).toBe("1.0.0");

    const deploy = await runCli(project, "deploy", "2.0.0");
    expect(deploy.code).toBe(0);
    expect(deploy.stderr).toMatch(/switch/);
    expect(deploy.stdout).toMatch(/d1 deploy 2\.0\.0\s+Healthy\s+blue 1\.0\.0 -> green 2\.0\.0/);
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("2.0.0");

    const status = JSON.parse((await runCli(project, "--json", "status")).stdout) as ServiceStatus;
    expect(status.active).toBe("green");
    expect(status.health).toBe("Healthy");
    expect(status.colours.green.replicas.map((r) => r.state)).toEqual(["ready", "ready"]);
    const human = await runCli(project, "status");
    expect(human.stdout).toMatch(/live: green/);

    const rollback = await runCli(project, "rollback");
    expect(rollback.code).toBe(0);
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("1.0.0");

    const history = JSON.parse((await runCli(project, "--json", "history")).stdout) as DeployRecord[];
    expect(history.map((r) => `${r.id} ${r.kind} ${r.version} ${r.phase}`)).toEqual([
      "d1 deploy 2.0.0 Healthy",
      "r2 rollback 1.0.0 Healthy",
    ]);
    const pids = status.colours.green.replicas.map((r) => r.pid as number);
    const down = await runCli(project, "down");
    expect(down.code).toBe(0);
    started.pop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${project.listen}/`)).rejects.toThrow();
  });

  it("refuses a second deploy while one runs, with exit code 1 and the deploy it waits for", async () => {
    const project = await makeProject({ deploy: "  autoPromote: false" });
    project.release("2.0.0");
    project.release("3.0.0");
    await up(project);
    const first = await runCli(project, "deploy", "2.0.0");
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/Paused: waiting for `cutover promote`/);
    const second = await runCli(project, "deploy", "3.0.0");
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/deploy d1 of version 2\.0\.0 is in progress \(phase Paused\)/);
    const promote = await runCli(project, "promote");
    expect(promote.code).toBe(0);
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("2.0.0");
  });

  it("a failed deploy exits 1 and says why", async () => {
    const project = await makeProject({ readyTimeout: "1500ms" });
    project.release("2.0.0", { FAIL_HEALTH: "1" });
    await up(project);
    const deploy = await runCli(project, "deploy", "2.0.0");
    expect(deploy.code).toBe(1);
    expect(deploy.stdout + deploy.stderr).toMatch(/Aborted/);
    expect(deploy.stdout).toMatch(/traffic stayed on blue \(1\.0\.0\)/);
  });

  it("after kill -9 of the daemon, up takes over the same active colour, versions and replicas and keeps the history", async () => {
    const project = await makeProject();
    project.release("2.0.0");
    await up(project);
    expect((await runCli(project, "deploy", "2.0.0")).code).toBe(0);
    const first = daemonInfo(project);
    const status = JSON.parse((await runCli(project, "--json", "status")).stdout) as ServiceStatus;
    const pids = (colour: "blue" | "green", s: ServiceStatus) => s.colours[colour].replicas.map((r) => r.pid);
    process.kill(first.pid, "SIGKILL");
    await eventually("the daemon is gone", () => !isAlive(first.pid), 10_000);
    // The data plane process serves on with the live colour's replicas while no daemon runs.
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("2.0.0");

    await up(project);
    expect(daemonInfo(project).pid).not.toBe(first.pid);
    const after = JSON.parse((await runCli(project, "--json", "status")).stdout) as ServiceStatus;
    // The new daemon took the live replicas over (same processes) and stopped the old colour's, if still warm.
    expect(pids("green", after)).toEqual(pids("green", status));
    expect(after.colours.blue.replicas).toEqual([]);
    expect(after.active).toBe("green");
    expect(after.colours.green.version).toBe("2.0.0");
    expect(after.colours.blue.recordedVersion).toBe("1.0.0");
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("2.0.0");
    const history = JSON.parse((await runCli(project, "--json", "history")).stdout) as DeployRecord[];
    expect(history.map((r) => `${r.id} ${r.phase}`)).toEqual(["d1 Healthy"]);
  });

  it("closes a deploy interrupted by kill -9 of the daemon as Aborted, once, and serves the old colour", async () => {
    const project = await makeProject();
    project.release("2.0.0", { SLOW_START_S: "30" });
    await up(project);
    expect((await runCli(project, "deploy", "2.0.0", "--detach")).code).toBe(0);
    process.kill(daemonInfo(project).pid, "SIGKILL");
    await up(project);
    const history = JSON.parse((await runCli(project, "--json", "history")).stdout) as DeployRecord[];
    expect(history).toHaveLength(1);
    expect(history[0]?.phase).toBe("Aborted");
    expect(history[0]?.reason).toMatch(/daemon stopped during/);
    expect((await fetch(`http://127.0.0.1:${project.listen}/`)).headers.get("x-app-version")).toBe("1.0.0");
  });
});

describe("the admin API", () => {
  it("answers 401 without the token, 4xx to bad requests, and keeps working", async () => {
    const project = await makeProject();
    await up(project);
    const admin = `http://127.0.0.1:${project.admin}`;
    const token = readFileSync(join(project.dir, ".cutover/token"), "utf8").trim();
    for (const [method, path] of [
      ["GET", "/status"],
      ["GET", "/history"],
      ["POST", "/deploys"],
      ["POST", "/rollback"],
      ["POST", "/promote"],
      ["POST", "/abort"],
      ["POST", "/shutdown"],
      ["GET", "/metrics"],
      ["GET", "/events"],
      // Without the token, a path that does not exist is 401 too: nothing to learn about the endpoints.
      ["GET", "/no-such-endpoint"],
      ["DELETE", "/status"],
    ] as const) {
      const none = await fetch(admin + path, { method });
      expect(none.status, `${method} ${path}`).toBe(401);
      const wrong = await fetch(admin + path, {
        method,
        headers: { authorization: `Bearer ${"0".repeat(64)}` },
      });
      expect(wrong.status, `${method} ${path} with a wrong token`).toBe(401);
    }
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const big = await fetch(`${admin}/deploys`, { method: "POST", headers: auth, body: "x".repeat(200_000) });
    expect(big.status).toBe(413);
    const malformed = await fetch(`${admin}/deploys`, { method: "POST", headers: auth, body: "{version:" });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { message: string }).message).toMatch(/not valid JSON/);
    const badVersion = await fetch(`${admin}/deploys`, {
      method: "POST",
      headers: auth,
      body: '{"version":"../x y"}',
    });
    expect(badVersion.status).toBe(400);
    const wrongMethod = await fetch(`${admin}/status`, { method: "DELETE", headers: auth });
    expect(wrongMethod.status).toBe(405);
    const status = await fetch(`${admin}/status`, { headers: auth });
    expect(status.status).toBe(200);
    const metrics = await fetch(`${admin}/metrics`, { headers: auth });
    expect(await metrics.text()).toMatch(/cutover_/);
    const log = readFileSync(join(project.dir, ".cutover/daemon.log"), "utf8");
    expect(log).not.toContain(token);
  });

  it("binds loopback by default", async () => {
    const project = await makeProject();
    await up(project);
    // The kernel's own table of listening sockets: the admin port listens on 127.0.0.1 only.
    const hexPort = hexOfPort(project.admin);
    const listening = listeningAddresses(project.admin);
    expect(listening).toEqual([`0100007F:${hexPort}`]);
  });
});
