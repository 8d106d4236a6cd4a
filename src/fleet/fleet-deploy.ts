import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { type DeployRecord, isFinal, waitsForPerson } from "../engine/lifecycle.js";
import type { ServiceStatus } from "../engine/service-status.js";
import { CutoverError } from "../errors.js";
import type { GlobalFront } from "../front/global-front.js";
import { haltFleet } from "./fleet-halt.js";
import type { FleetJudge, LiveColours } from "./fleet-judge.js";
import type { FleetStore } from "./fleet-store.js";
import { type FrontMoves, putBack, putBackAll, takeOut } from "./front-moves.js";
import { liveVersion } from "./live-version.js";
import {
  describeRegions,
  endFleet,
  type FleetRecord,
  newFleetRecord,
  setRegion,
} from "./model/fleet-record.js";
import type { Region } from "./region.js";

export interface FleetWave {
  readonly regions: readonly string[];
  readonly bakeMs: number;
  readonly maxParallel?: number;
}

export interface FleetDeployOptions {
  readonly version: string;
  readonly regions: readonly Region[];
  readonly waves: readonly FleetWave[];
  readonly store: FleetStore;
  readonly judge: FleetJudge;
  /** How often a baking wave's regions are looked at (their health, and whether they went back by themselves). */
  readonly checkEveryMs: number;
  readonly front: GlobalFront | null;
  readonly drainDuringDeploy: boolean;
  /** How long the front may take to confirm a region is out or back in (fleet.frontTimeout). */
  readonly frontTimeoutMs: number;
  readonly logger: Logger;
  /** Aborted: halt, and send every region this deploy switched back (Ctrl-C, `cutover abort`). */
  readonly signal: AbortSignal;
  /** Hears the record at every change (the CLI's progress). */
  readonly onChange?: (record: FleetRecord) => void;
}

/**
 * `cutover deploy <version>` on a fleet: the blue-green cycle in each region of a wave at once (at most
 * maxParallel), then the wave's bake, judged against the regions still on the old version, then the next
 * wave. Any region's failure, a Fail verdict, or an abort halts the fleet: every region it switched goes
 * back to its old colour (still warm), regions not reached never switch, and the record says which region
 * was where and why. The record is saved at every change, so a runner killed between waves leaves a state
 * `cutover status` explains and `cutover abort` finishes.
 */
export async function runFleetDeploy(o: FleetDeployOptions): Promise<FleetRecord> {
  const statuses = await preflight(o);
  const record = newFleetRecord({
    id: `fleet-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, "")
      .slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`,
    version: o.version,
    waves: o.waves.map((w) => ({ regions: w.regions, bakeMs: w.bakeMs })),
    fromVersions: Object.fromEntries(statuses.map(([name, s]) => [name, liveVersion(s)])),
    runner: { pid: process.pid, host: hostname() },
  });
  const save = () => {
    o.store.save(record);
    o.onChange?.(record);
  };
  save();
  o.judge.start();
  const moves =
    o.front && o.drainDuringDeploy ? { front: o.front, record, save, timeoutMs: o.frontTimeoutMs } : null;
  try {
    for (const [w, wave] of o.waves.entries()) {
      const failure = await runWave(o, record, w, wave, moves, save);
      if (failure !== null) return await halt(o, record, failure, moves, save);
    }
    endFleet(record, "Healthy");
    save();
    o.logger.info({ fleet: record.id, version: o.version }, "fleet deploy healthy in every region");
    return record;
  } catch (error) {
    const reason = o.signal.aborted
      ? reasonOf(o.signal.reason)
      : `the runner failed: ${(error as Error).message}`;
    return await halt(o, record, reason, moves, save);
  } finally {
    o.judge.stop();
  }
}

/** Every region answers, and none has a deploy of its own in progress; returns each one's status. */
async function preflight(o: FleetDeployOptions): Promise<[string, ServiceStatus][]> {
  const current = o.store.current();
  if (current && current.phase === "Progressing")
    throw new CutoverError(
      "DEPLOY_IN_PROGRESS",
      `fleet deploy ${current.id} of ${current.version} has not ended (runner pid ${current.runner.pid} on ${current.runner.host}); see \`cutover status\`, or run \`cutover abort\` to send its regions back`,
    );
  const answers = await Promise.allSettled(o.regions.map((r) => r.control.status()));
  const problems: string[] = [];
  const statuses: [string, ServiceStatus][] = [];
  answers.forEach((answer, i) => {
    const region = o.regions[i] as Region;
    if (answer.status === "rejected") {
      problems.push(`${region.name} (${region.where}) did not answer: ${(answer.reason as Error).message}`);
      return;
    }
    const deploy = answer.value.deploy;
    if (deploy && !isFinal(deploy.phase))
      problems.push(
        `${region.name} has deploy ${deploy.id} of ${deploy.version} ${deploy.phase}; let it end or abort it (cutover abort --region ${region.name})`,
      );
    statuses.push([region.name, answer.value]);
  });
  if (problems.length > 0)
    throw new CutoverError("REGION_NOT_READY", `no region was touched: ${problems.join("; ")}`);
  return statuses;
}

/** One wave: deploy its regions, bake, judge. Returns why the fleet must halt, or null to go on. */
async function runWave(
  o: FleetDeployOptions,
  record: FleetRecord,
  w: number,
  wave: FleetWave,
  moves: FrontMoves | null,
  save: () => void,
): Promise<string | null> {
  const waveRecord = record.waves[w] as FleetRecord["waves"][number];
  waveRecord.state = "deploying";
  waveRecord.startedAt = new Date().toISOString();
  save();
  const regions = wave.regions.map((name) => regionNamed(o, name));
  // A region that fails stops the wave: the regions of the wave not yet started never are.
  const waveFailed = () => regions.some((r) => record.regions[r.name]?.state === "failed");
  await inBatches(regions, wave.maxParallel ?? regions.length, async (region) => {
    if (!waveFailed()) await deployRegion(o, record, region, moves, save);
  });
  const failed = regions.filter((r) => record.regions[r.name]?.state === "failed");
  if (o.signal.aborted) return reasonOf(o.signal.reason);
  if (failed.length > 0) {
    waveRecord.state = "failed";
    return `wave ${w + 1}: ${failed.map((r) => `${r.name} failed: ${record.regions[r.name]?.reason ?? "?"}`).join("; ")}`;
  }
  const failure = await bake(o, record, w, regions, save);
  if (failure !== null) {
    waveRecord.state = "failed";
    waveRecord.endedAt = new Date().toISOString();
    save();
    return failure;
  }
  if (moves) {
    const problems = await Promise.all(regions.map((r) => putBack(moves, r.name, o.signal)));
    const problem = problems.find((p) => p !== null);
    if (problem) {
      waveRecord.state = "failed";
      return `wave ${w + 1} after its bake: ${problem}`;
    }
  }
  waveRecord.state = "passed";
  waveRecord.endedAt = new Date().toISOString();
  save();
  return null;
}

/** One region's blue-green cycle, followed to its end (through a pause for `cutover promote --region`). */
async function deployRegion(
  o: FleetDeployOptions,
  record: FleetRecord,
  region: Region,
  moves: FrontMoves | null,
  save: () => void,
): Promise<void> {
  if (o.signal.aborted) return;
  setRegion(record, region.name, "deploying");
  save();
  const onAbort = () => void region.control.abort().catch(() => {});
  o.signal.addEventListener("abort", onAbort, { once: true });
  try {
    if (moves) await takeOut(moves, region.name, o.signal);
    let last: DeployRecord | null = null;
    for await (const step of region.control.follow("deploy", o.version)) {
      last = step;
      const fleetRegion = record.regions[region.name];
      if (fleetRegion && fleetRegion.deployId !== step.id) {
        fleetRegion.deployId = step.id;
        save();
      }
    }
    if (last && waitsForPerson(last)) {
      setRegion(record, region.name, "paused", `waits for \`cutover promote --region ${region.name}\``);
      save();
      last = await waitForEnd(o, region, last);
    }
    if (last?.phase === "Healthy") setRegion(record, region.name, "switched", "");
    else if (o.signal.aborted)
      // Aborted by the halt: before its switch it stayed where it was; after it, its cutover switched back.
      setRegion(
        record,
        region.name,
        last?.switchedAt ? "rolled-back" : "stopped",
        `${last?.switchedAt ? "sent back" : "stopped before its switch"}: ${reasonOf(o.signal.reason)}`,
      );
    else setRegion(record, region.name, "failed", last?.reason ?? "its deploy ended without an answer");
  } catch (error) {
    setRegion(record, region.name, "failed", (error as Error).message);
  } finally {
    o.signal.removeEventListener("abort", onAbort);
    save();
  }
}

/** A paused region's deploy, until a person promotes or aborts it (or the fleet is aborted). */
async function waitForEnd(
  o: FleetDeployOptions,
  region: Region,
  paused: DeployRecord,
): Promise<DeployRecord | null> {
  while (!o.signal.aborted) {
    const status = await region.control.status();
    const deploy = status.deploy?.id === paused.id ? status.deploy : status.lastDeploy;
    if (deploy?.id === paused.id && isFinal(deploy.phase)) return deploy;
    await sleep(o.checkEveryMs, undefined, { signal: o.signal }).catch(() => {});
  }
  return null;
}

/**
 * The bake: the wave runs on the new version for bakeMs while its regions are looked at every checkEveryMs
 * (a region that went back by itself, or lost its ready replicas, fails the wave at once); then the judge.
 */
async function bake(
  o: FleetDeployOptions,
  record: FleetRecord,
  w: number,
  regions: readonly Region[],
  save: () => void,
): Promise<string | null> {
  const waveRecord = record.waves[w] as FleetRecord["waves"][number];
  const since = Date.now();
  waveRecord.state = "baking";
  waveRecord.bakeEndsAt = new Date(since + waveRecord.bakeMs).toISOString();
  save();
  let live: LiveColours = {};
  for (;;) {
    const looked = await lookAt(record, regions);
    if (typeof looked === "string") return `wave ${w + 1} during its bake: ${looked}`;
    live = looked;
    const left = since + waveRecord.bakeMs - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(left, o.checkEveryMs), undefined, { signal: o.signal }).catch(() => {});
    if (o.signal.aborted) return reasonOf(o.signal.reason);
  }
  const baseline = Object.values(record.regions)
    .filter((r) => r.state === "pending")
    .map((r) => r.name);
  const baselineLive = await liveColours(o, baseline);
  waveRecord.verdict = o.judge.verdict(waveRecord.regions, baseline, { ...baselineLive, ...live }, since);
  save();
  o.logger.info({ fleet: record.id, wave: w + 1, ...waveRecord.verdict }, "wave judged");
  return waveRecord.verdict.verdict === "Fail"
    ? `wave ${w + 1} judged Fail: ${waveRecord.verdict.reason}`
    : null;
}

/** The wave's regions' live colours, or why one of them no longer serves the new version well. */
async function lookAt(record: FleetRecord, regions: readonly Region[]): Promise<LiveColours | string> {
  const live: Record<string, ServiceStatus["active"]> = {};
  for (const region of regions) {
    const status = await region.control.status().catch((error: Error) => error);
    if (status instanceof Error) return `${region.name} did not answer: ${status.message}`;
    const version = liveVersion(status);
    if (version !== record.version) {
      setRegion(
        record,
        region.name,
        "failed",
        `went back to ${version} by itself: ${status.lastDeploy?.reason ?? "see its history"}`,
      );
      return `${region.name} went back to ${version} by itself (${status.lastDeploy?.reason ?? "see its history"})`;
    }
    if (status.health !== "Healthy") {
      setRegion(record, region.name, "failed", "its live colour has no ready replica");
      return `${region.name}'s live colour has no ready replica`;
    }
    live[region.name] = status.active;
  }
  return live;
}

async function liveColours(o: FleetDeployOptions, names: readonly string[]): Promise<LiveColours> {
  const entries = await Promise.all(
    names.map(async (name) => {
      const status = await regionNamed(o, name)
        .control.status()
        .catch(() => null);
      return status ? [[name, status.active] as const] : [];
    }),
  );
  return Object.fromEntries(entries.flat());
}

async function halt(
  o: FleetDeployOptions,
  record: FleetRecord,
  reason: string,
  moves: FrontMoves | null,
  save: () => void,
): Promise<FleetRecord> {
  o.logger.warn({ fleet: record.id, reason }, "fleet deploy halted; sending switched regions back");
  await haltFleet({ record, regions: o.regions, reason, save, logger: o.logger });
  if (moves) await putBackAll(moves, o.logger);
  o.logger.warn({ fleet: record.id, regions: describeRegions(record) }, "fleet deploy aborted");
  return record;
}

function regionNamed(o: FleetDeployOptions, name: string): Region {
  const region = o.regions.find((r) => r.name === name);
  if (!region) throw new Error(`no region ${name}`);
  return region;
}

/** Runs `work` on each item, at most `limit` at once. */
async function inBatches<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const lanes = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(lanes);
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? "aborted");
}
