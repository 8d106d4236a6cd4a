/**
 * A fleet on one machine for the fleet tests: each region a real cutover daemon (router, local platform,
 * engine, admin API) with its own folder, ports and state, serving the demo app; and the fleet's own
 * cutover.yaml naming them over their admin APIs, as a runner elsewhere would.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { isProcessAlive, readDaemonInfo } from "../../src/daemon/state-files.js";
import { readDataPlaneInfo } from "../../src/dataplane/dataplane-files.js";
import type { Fleet } from "../../src/fleet/fleet-runner.js";
import { liveVersion } from "../../src/fleet/live-version.js";
import { describeRegions, type FleetRecord } from "../../src/fleet/model/fleet-record.js";
import { startDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";
import type { LoadResult } from "../helpers/steady-load.js";

/**
 * A region: a real cutover daemon of its own, with its own folder, ports and state: in the test's process
 * (quick to start), or with `processes: true` a process of its own (`cutover up`), as on its own machine.
 */
export interface RegionUnderTest {
  readonly name: string;
  readonly project: Project;
  /** Where its router serves users (router.listen): the region's endpoint in the fleet's cutover.yaml. */
  readonly url: string;
  /** `cutover down`: the daemon stops its replicas and exits. */
  stop(): Promise<void>;
  /**
   * Kills the daemon and its data plane process with SIGKILL; the replicas' guards stop them: the whole region
   * goes down (processes only).
   */
  kill(): Promise<void>;
}

export interface StartRegionsOptions {
  /**
   * Region i's router listens on 127.0.0.(i+2) and one port shared by every region, instead of 127.0.0.1 and
   * a port of its own: a Traffic Manager profile probes all its endpoints on one port. Use `url` then, not
   * project.listen.
   */
  readonly sharedPort?: boolean;
  /**
   * Each daemon a process of its own (`cutover up`): slower to start and stop, but the test's process then
   * carries only the load and the runner (tests that count failed requests under load), and a region can be
   * killed with -9.
   */
  readonly processes?: boolean;
}

/** The fleet's own judge in the tests' fleets (its analysis: section). */
export const FLEET_ANALYSIS = `analysis:
  minRequests: 20
  conditions:
    - { metric: errorRate, max: 0.05 }
  # Errors only: on a shared 2-core machine a colour just started is slower for a while, which is no verdict.
  judge: { minSamples: 3, metrics: [{ metric: errorRate, critical: true }] }
  report: { enabled: false }
`;

/**
 * Each region's own post-switch analysis: a region judges its own new colour (errors above 5% fail it), as
 * a user's regions would; the fleet adds the comparison across regions.
 */
const REGION_ANALYSIS = `analysis:
  interval: 250ms
  count: 8
  lookback: 2s
  minRequests: 20
  preSwitch: false
  conditions:
    - { metric: errorRate, max: 0.05 }
  # Errors only: on a shared 2-core machine a colour just started is slower for a while, which is no verdict.
  judge: { minSamples: 3, metrics: [{ metric: errorRate, critical: true }] }
  report: { enabled: false }
`;

export async function startRegions(
  names: readonly string[],
  releases: Readonly<Record<string, Record<string, Record<string, string>>>> = {},
  options: StartRegionsOptions = {},
): Promise<RegionUnderTest[]> {
  const hosts = names.map((_, i) => (options.sharedPort ? `127.0.0.${i + 2}` : "127.0.0.1"));
  const port = options.sharedPort ? await portFreeOn(hosts) : null;
  return Promise.all(
    names.map(async (name, i) => {
      const project = await makeProject({ extra: REGION_ANALYSIS, deploy: "  scaleDownDelay: 5m" });
      const listen = `${hosts[i]}:${port ?? project.listen}`;
      // makeProject writes scaleDownDelay: 1s; a fleet keeps the old colour warm until the whole fleet is done.
      const file = readFileSync(project.config, "utf8")
        .replace("  scaleDownDelay: 1s\n", "")
        .replace(`  listen: 127.0.0.1:${project.listen}\n`, `  listen: ${listen}\n`);
      if (!file.includes(`  listen: ${listen}\n`))
        throw new Error(`makeProject no longer writes router.listen as ${project.listen}`);
      writeFileSync(project.config, file);
      for (const [version, env] of Object.entries({ "2.0.0": {}, ...(releases[name] ?? {}) }))
        project.release(version, env);
      const url = `http://${listen}`;
      return options.processes ? upRegion(name, project, url) : inProcessRegion(name, project, url);
    }),
  );
}

async function inProcessRegion(name: string, project: Project, url: string): Promise<RegionUnderTest> {
  const daemon = await startDaemon(project);
  return {
    name,
    project,
    url,
    stop: () => daemon.stop(),
    kill: () =>
      Promise.reject(new Error(`region ${name} runs in the test's process: start it with processes: true`)),
  };
}

async function upRegion(name: string, project: Project, url: string): Promise<RegionUnderTest> {
  const up = await runCli(project, "up");
  if (up.code !== 0) throw new Error(`cutover up for region ${name} failed: ${up.stderr}`);
  const stateDir = loadConfig(project.config).stateDir;
  return {
    name,
    project,
    url,
    async stop() {
      await runCli(project, "down");
    },
    async kill() {
      const info = readDaemonInfo(stateDir);
      const plane = readDataPlaneInfo(stateDir);
      if (!info || !plane) throw new Error(`no daemon.json or dataplane.json in ${stateDir}`);
      process.kill(info.pid, "SIGKILL");
      process.kill(plane.pid, "SIGKILL");
      await eventually(
        "the daemon and its data plane are gone",
        () => ![info.pid, plane.pid].some(isProcessAlive),
        10_000,
      );
    },
  };
}

/** A port below the ephemeral range that every one of `hosts` can listen on (see freePort in project.ts). */
async function portFreeOn(hosts: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await Promise.all(hosts.map((host) => canListen(host, port)));
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port below 32000 is free on every one of ${hosts.join(", ")}`);
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The fleet's cutover.yaml (in region 0's folder, as fleet.yaml), and where its runner keeps its state. */
export function fleetConfig(
  regions: readonly Pick<RegionUnderTest, "name" | "project" | "url">[],
  extra: string,
): string {
  const lines = ["service: testsvc", "version: 1.0.0", "regions:"];
  for (const region of regions) {
    const loaded = loadConfig(region.project.config);
    const token = readFileSync(join(loaded.stateDir, "token"), "utf8").trim();
    lines.push(
      `  - name: ${region.name}`,
      `    admin: { url: "http://127.0.0.1:${region.project.admin}", token: "${token}" }`,
      `    endpoint: "${region.url}"`,
    );
  }
  const file = join(regions[0]?.project.dir ?? ".", "fleet.yaml");
  writeFileSync(file, `${lines.join("\n")}\n${extra}`);
  return file;
}

export async function stopRegions(regions: readonly RegionUnderTest[]): Promise<void> {
  await Promise.allSettled(regions.map((r) => r.stop()));
}

/**
 * Runs a fleet deploy that the test halts after `ms` (a hang then fails with the record's reasons, not a
 * bare timeout): the runner aborts, sends switched regions back, and the record says where each region was.
 */
export async function deployWithin(fleet: Fleet, version: string, ms = 90_000): Promise<FleetRecord> {
  const deadline = AbortSignal.timeout(ms);
  const record = await fleet.deploy(version, deadline);
  if (deadline.aborted)
    throw new Error(
      `the fleet deploy was still running after ${ms} ms: ${record.reason}; ${describeRegions(record)}`,
    );
  return record;
}

/** Requests of a load that failed: no answer, or a 5xx. */
export function failedRequests(result: LoadResult): number {
  let count = result.failures.length;
  for (const [status, n] of result.statuses) if (status >= 500) count += n;
  return count;
}

/** The version each region of the fleet serves its users. */
export async function liveVersions(fleet: Fleet): Promise<Record<string, string | null>> {
  const entries = await Promise.all(
    fleet.regions.map(async (r) => [r.name, liveVersion(await r.control.status())] as const),
  );
  return Object.fromEntries(entries);
}

/**
 * Waits until users have been on 1.0.0 for a while in every region, as before any real deploy: each region's
 * blue served `requests` (its metrics say so), so each region's post-switch analysis has a baseline of blue
 * from before its switch. Without it, a region's analysis finds too little traffic and pauses for a person.
 */
export async function usersOnBlue(fleet: Fleet, requests = 100): Promise<void> {
  for (const region of fleet.regions)
    await eventually(
      `${region.name}'s blue served ${requests} requests`,
      async () => {
        const reading = await region.metrics.read(AbortSignal.timeout(2_000));
        if (reading.kind !== "counters") throw new Error(`expected counters from ${region.metrics.kind}`);
        const served = reading.series.filter((s) => s.colour === "blue").reduce((n, s) => n + s.requests, 0);
        return served >= requests;
      },
      15_000,
    );
}
