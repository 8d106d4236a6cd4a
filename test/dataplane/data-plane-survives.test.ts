/**
 * The data plane outlives the daemon: the router (or HAProxy) and the replicas run in the data plane process,
 * which serves on while the daemon is killed, restarted or replaced, and which `cutover down` stops with or
 * without a daemon. Real `cutover up` processes, load on loopback, the process table read from /proc.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readDaemonInfo } from "../../src/daemon/state-files.js";
import { readDataPlaneInfo } from "../../src/dataplane/dataplane-files.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { makeProject, type Project, type ProjectOptions, runCli } from "../helpers/project.js";
import { type SteadyLoad, steadyLoad } from "../helpers/steady-load.js";
import { previousBuild } from "./previous-build.js";

const started: Project[] = [];
afterEach(async () => {
  for (const project of started.splice(0)) await runCli(project, "down");
});

async function project(options: ProjectOptions = {}): Promise<Project> {
  const made = await makeProject({ replicas: 2, ...options });
  started.push(made);
  return made;
}

async function up(p: Project, ...args: string[]): Promise<void> {
  const result = await runCli(p, "up", ...args);
  if (result.code !== 0) throw new Error(`up failed (${result.code}): ${result.stderr}`);
}

async function status(p: Project): Promise<ServiceStatus> {
  const result = await runCli(p, "status", "--json");
  return JSON.parse(result.stdout) as ServiceStatus;
}

const stateDir = (p: Project) => join(p.dir, ".cutover");
const replicaPids = (s: ServiceStatus) =>
  s.colours[s.active].replicas.map((r) => r.pid).filter((pid): pid is number => pid !== null);

/** Waits until `more` further requests of `load` have been answered (or failed). */
async function answered(load: SteadyLoad, more: number, what: string): Promise<void> {
  const target = load.done() + more;
  await eventually(`${more} more requests were answered ${what}`, () => load.done() >= target, 30_000);
}

async function killDaemon(p: Project, signal: NodeJS.Signals = "SIGKILL"): Promise<number> {
  const info = readDaemonInfo(stateDir(p));
  if (!info) throw new Error("no daemon.json");
  process.kill(info.pid, signal);
  await eventually("the daemon is gone", () => !isAlive(info.pid), 60_000);
  return info.pid;
}

/** Pids of every process whose working folder is in `dir` (the replicas run in the project's folder). */
function processesIn(dir: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`).startsWith(dir) && isAlive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** The children of `pid`, read from /proc/<child>/stat. */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((child) => {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function expectNoFailures(result: Awaited<ReturnType<SteadyLoad["stop"]>>): void {
  expect(result.failures).toEqual([]);
  expect([...result.statuses.keys()]).toEqual([200]);
}

describe("the data plane outlives the daemon", () => {
  for (const dataPlane of ["builtin", "haproxy"] as const) {
    it(`kill -9 of the daemon under load, then \`cutover up\`: 0 failed, the same replicas taken over (${dataPlane})`, async () => {
      const p = await project(dataPlane === "haproxy" ? { router: "  dataPlane: haproxy" } : {});
      await up(p);
      const before = await status(p);
      const plane = readDataPlaneInfo(stateDir(p));
      expect(plane?.pid).toBeTypeOf("number");
      const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 200, maxDurationMs: 90_000 });
      await answered(load, 100, "before the kill");
      const daemon = await killDaemon(p);
      await answered(load, 300, "with no daemon");
      expect(load.failed()).toBe(0);
      const offline = await runCli(p, "status");
      expect(offline.stdout).toMatch(new RegExp(`the data plane \\(pid ${plane?.pid}\\) still serves`));
      await up(p);
      await answered(load, 100, "after `cutover up`");
      expectNoFailures(await load.stop());
      const after = await status(p);
      expect(readDaemonInfo(stateDir(p))?.pid).not.toBe(daemon);
      // The same data plane process and the same replica processes: taken over, not restarted.
      expect(readDataPlaneInfo(stateDir(p))?.pid).toBe(plane?.pid);
      expect(replicaPids(after).sort()).toEqual(replicaPids(before).sort());
      expect(after.colours[after.active].replicas.every((r) => r.ready && r.restarts === 0)).toBe(true);
      expect(readFileSync(join(stateDir(p), "logs/blue-0.log"), "utf8")).toMatch(/adopted by a new daemon/);
      // Health checking resumed: a replica killed now is restarted by the new daemon.
      const [victim] = replicaPids(after);
      process.kill(victim as number, "SIGKILL");
      await eventually(
        "the new daemon restarted the killed replica",
        async () => {
          const s = await status(p);
          return s.colours[s.active].replicas.some((r) => r.restarts === 1 && r.ready);
        },
        30_000,
      );
    });
  }

  it("SIGTERM: the daemon leaves and the data plane serves on; `cutover up --replace` takes over under load, 0 failed", async () => {
    const p = await project();
    await up(p);
    const plane = readDataPlaneInfo(stateDir(p));
    const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 200, maxDurationMs: 90_000 });
    await answered(load, 100, "before SIGTERM");
    await killDaemon(p, "SIGTERM");
    await answered(load, 200, "after the daemon left");
    const replaced = readDaemonInfo(stateDir(p));
    expect(replaced).toBeNull(); // it removed its daemon.json on the way out
    await up(p);
    const first = readDaemonInfo(stateDir(p))?.pid;
    // A daemon of this very cutover is replaced only when asked to: the handover of an upgrade, by hand.
    const again = await runCli(p, "up");
    expect(again.stdout).toMatch(/already up/);
    const handover = await runCli(p, "up", "--replace");
    expect(handover.code, handover.stderr).toBe(0);
    expect(handover.stdout).toMatch(new RegExp(`took over from the daemon of pid ${first}`));
    await answered(load, 100, "after the handover");
    expectNoFailures(await load.stop());
    expect(readDataPlaneInfo(stateDir(p))?.pid).toBe(plane?.pid);
  });

  it("`cutover down` with the daemon dead stops the data plane and every replica (the process table says so)", async () => {
    const p = await project();
    await up(p);
    const plane = readDataPlaneInfo(stateDir(p));
    const guards = childrenOf(plane?.pid as number);
    const replicas = replicaPids(await status(p));
    expect(guards.length).toBeGreaterThanOrEqual(2);
    expect(processesIn(p.dir).length).toBeGreaterThanOrEqual(2);
    await killDaemon(p);
    const down = await runCli(p, "down");
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`stopped \\(data plane pid ${plane?.pid}\\)`));
    for (const pid of [plane?.pid as number, ...guards, ...replicas]) expect(isAlive(pid)).toBe(false);
    expect(processesIn(p.dir)).toEqual([]);
    expect(readDataPlaneInfo(stateDir(p))).toBeNull();
    expect((await runCli(p, "down")).stdout).toMatch(/not running/);
  });

  it("a restart with more replicas configured keeps the running ones and starts the missing one", async () => {
    const p = await project({ replicas: 2 });
    await up(p);
    const before = replicaPids(await status(p));
    await killDaemon(p);
    writeFileSync(p.config, readFileSync(p.config, "utf8").replace("replicas: 2", "replicas: 3"));
    await up(p);
    const after = await status(p);
    const live = after.colours[after.active].replicas;
    expect(live.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(live.every((r) => r.ready)).toBe(true);
    expect(
      replicaPids(after)
        .filter((pid) => before.includes(pid))
        .sort(),
    ).toEqual([...before].sort());
  });

  it("the data plane killed with -9: the daemon notices, says so and stops; `cutover up` starts both again", async () => {
    const p = await project({ replicas: 1 });
    await up(p);
    const daemon = readDaemonInfo(stateDir(p))?.pid as number;
    const plane = readDataPlaneInfo(stateDir(p))?.pid as number;
    process.kill(plane, "SIGKILL");
    await eventually("the daemon stopped after its data plane died", () => !isAlive(daemon), 30_000);
    expect(readFileSync(join(stateDir(p), "daemon.log"), "utf8")).toMatch(/the data plane process is gone/);
    expect(processesIn(p.dir)).toEqual([]);
    await up(p);
    expect((await fetch(`http://127.0.0.1:${p.listen}/`)).status).toBe(200);
  });

  it("router.orphanTimeout: with no daemon for that long, the data plane stops its replicas and itself", async () => {
    const p = await project({ replicas: 1, router: "  orphanTimeout: 1s" });
    await up(p);
    const plane = readDataPlaneInfo(stateDir(p))?.pid as number;
    const replicas = replicaPids(await status(p));
    await killDaemon(p);
    await eventually("the orphaned data plane stopped", () => !isAlive(plane), 30_000);
    for (const pid of replicas) expect(isAlive(pid)).toBe(false);
    expect(processesIn(p.dir)).toEqual([]);
  });

  it("refuses to adopt a live process .cutover/dataplane.json names that is not cutover's data plane", async () => {
    const p = await project({ replicas: 1 });
    const stranger = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const info = {
        protocol: 1,
        pid: stranger.pid,
        nonce: "x",
        socket: join(stateDir(p), "dataplane.sock"),
        stateDir: stateDir(p),
      };
      mkdirSync(stateDir(p), { recursive: true });
      writeFileSync(join(stateDir(p), "dataplane.json"), JSON.stringify(info));
      const result = await runCli(p, "up");
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`names pid ${stranger.pid}, which runs but is not cutover's data plane`),
      );
      expect(result.stderr).toMatch(/remove .*dataplane\.json/);
      expect(readDaemonInfo(stateDir(p))).toBeNull();
      expect(isAlive(stranger.pid as number)).toBe(true);
    } finally {
      stranger.kill("SIGKILL");
    }
  });
});

describe("upgrade in place", () => {
  let previous: { main: string; commit: string };
  // TypeScript's emit of the whole tree: half a minute on a busy machine.
  beforeAll(() => {
    previous = previousBuild();
  }, 300_000);

  it("a daemon of the previous commit (built in a temporary folder) is replaced by this cutover's under load: 0 failed", async () => {
    const p = await project();
    const old = await runCliOf(previous.main, p, "up");
    expect(old.code, old.stderr).toBe(0);
    const oldDaemon = readDaemonInfo(stateDir(p));
    const plane = readDataPlaneInfo(stateDir(p));
    const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 200, maxDurationMs: 90_000 });
    await answered(load, 100, "from the previous commit's cutover");
    // This cutover's `cutover up` finds a daemon of another build, asks it to leave, and takes over.
    const upgrade = await runCli(p, "up");
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toMatch(new RegExp(`took over from the daemon of pid ${oldDaemon?.pid}`));
    expect(isAlive(oldDaemon?.pid as number)).toBe(false);
    await answered(load, 200, "after the upgrade");
    expectNoFailures(await load.stop());
    // The data plane the old cutover started serves on, driven by the new daemon: a deploy goes through it.
    expect(readDataPlaneInfo(stateDir(p))?.pid).toBe(plane?.pid);
    p.release("2.0.0");
    const deploy = await runCli(p, "deploy", "2.0.0");
    expect(deploy.code, deploy.stderr).toBe(0);
    const answer = await fetch(`http://127.0.0.1:${p.listen}/`);
    expect(answer.headers.get("x-cutover-colour")).toBe("green");
    await answer.arrayBuffer();
  });
});

/** Runs another build's CLI with the project's config. */
function runCliOf(main: string, p: Project, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [main, "--config", p.config, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
