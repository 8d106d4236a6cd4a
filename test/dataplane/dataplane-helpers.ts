/** What the data plane tests share: projects that are `cutover down` after each test, load, the process table. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { readDaemonInfo } from "../../src/daemon/state-files.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { makeProject, type Project, type ProjectOptions, runCli } from "../helpers/project.js";
import type { SteadyLoad } from "../helpers/steady-load.js";

const started: Project[] = [];

/** `cutover down` for every project a test made (call from afterEach). */
export async function downAll(): Promise<void> {
  for (const project of started.splice(0)) await runCli(project, "down");
}

export async function project(options: ProjectOptions = {}): Promise<Project> {
  const made = await makeProject({ replicas: 2, ...options });
  started.push(made);
  return made;
}

export async function up(p: Project, ...args: string[]): Promise<void> {
  const result = await runCli(p, "up", ...args);
  if (result.code !== 0) throw new Error(`up failed (${result.code}): ${result.stderr}`);
}

export async function status(p: Project): Promise<ServiceStatus> {
  const result = await runCli(p, "status", "--json");
  return JSON.parse(result.stdout) as ServiceStatus;
}

export const stateDir = (p: Project) => join(p.dir, ".cutover");
export const replicaPids = (s: ServiceStatus) =>
  s.colours[s.active].replicas.map((r) => r.pid).filter((pid): pid is number => pid !== null);

/** Waits until `more` further requests of `load` have been answered (or failed). */
export async function answered(load: SteadyLoad, more: number, what: string): Promise<void> {
  const target = load.done() + more;
  await eventually(`${more} more requests were answered ${what}`, () => load.done() >= target, 30_000);
}

export async function killDaemon(p: Project, signal: NodeJS.Signals = "SIGKILL"): Promise<number> {
  const info = readDaemonInfo(stateDir(p));
  if (!info) throw new Error("no daemon.json");
  process.kill(info.pid, signal);
  await eventually("the daemon is gone", () => !isAlive(info.pid), 60_000);
  return info.pid;
}

/** Pids of every process whose working folder is in `dir` (the replicas run in the project's folder). */
export function processesIn(dir: string): number[] {
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
export function childrenOf(pid: number): number[] {
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

export function expectNoFailures(result: Awaited<ReturnType<SteadyLoad["stop"]>>): void {
  expect(result.failures).toEqual([]);
  expect([...result.statuses.keys()]).toEqual([200]);
}
