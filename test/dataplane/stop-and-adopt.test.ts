/**
 * What stops what: `cutover down` with the daemon dead, router.orphanTimeout, a data plane that dies, a
 * stranger in dataplane.json; and what a new daemon adopts when cutover.yaml changed. The process table is
 * read from /proc.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readDaemonInfo } from "../../src/daemon/state-files.js";
import { readDataPlaneInfo } from "../../src/dataplane/dataplane-files.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { type Project, runCli } from "../helpers/project.js";
import {
  childrenOf,
  downAll,
  killDaemon,
  processesIn,
  project,
  replicaPids,
  stateDir,
  status,
  up,
} from "./dataplane-helpers.js";

afterEach(downAll);

describe("stopping and adopting", () => {
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

  it("a restart with more replicas configured keeps the running ones and starts the missing one; a changed router: is warned of", async () => {
    const p = await project({ replicas: 2 });
    await up(p);
    const before = replicaPids(await status(p));
    await killDaemon(p);
    // More replicas, and a router setting the running data plane cannot take without a restart of its own.
    const config = readFileSync(p.config, "utf8").replace("replicas: 2", "replicas: 3");
    writeFileSync(p.config, config.replace("  drainTimeout:", "  sticky: true\n  drainTimeout:"));
    await up(p);
    expect(readFileSync(join(stateDir(p), "daemon.log"), "utf8")).toMatch(
      /router: settings changed since the data plane process started/,
    );
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
    await upAgainAfterPortClash(p);
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

/**
 * `cutover up` once the data plane is gone. The test's ports are picked at random among 12,000 and left free
 * while the data plane is down, so another test file running beside this one may bind the same port in that
 * window (it happened once in five fresh-clone runs). Then, and only when the holder is no process of this
 * project (a leftover of ours would be a real defect and fails here), `up` is tried once more after that
 * port is free again.
 */
async function upAgainAfterPortClash(p: Project): Promise<void> {
  const result = await runCli(p, "up");
  if (result.code === 0) return;
  if (!/is already in use/.test(result.stderr))
    throw new Error(`up failed (${result.code}): ${result.stderr}`);
  const holders = execFileSync("ss", ["-ltnpH", `sport = :${p.listen}`], { encoding: "utf8" });
  const pids = [...holders.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  const ours = processesIn(p.dir);
  if (pids.some((pid) => ours.includes(pid)))
    throw new Error(`up failed: a process of this project still holds ${p.listen}: ${holders}`);
  console.log(
    `port ${p.listen} was taken by another test (${holders.trim() || "gone already"}); trying up again`,
  );
  await eventually("the other test's listener on the port is gone", () => canBind(p.listen), 60_000);
  await up(p);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
