/**
 * cutover's built-in router against nginx and HAProxy on this machine, in one run: the same demo app
 * behind each (blue and green, one node process each), the same closed-loop load (wrk), rounds
 * interleaved so that drift hits every target alike, medians of the rounds. Then the switch of each
 * under load: cutover's admin command, HAProxy's runtime API, nginx's reload. Last, several cores:
 * cutover with router.workers: 2 against nginx with 2 workers (shorter rounds), and 20 switches of that
 * router under load.
 *
 *   npm run bench [-- --seconds 10 --rounds 3 --connections 50 --switch-rounds 3 --soak-requests 1000000
 *                     --workers 2 --workers-seconds 5 --workers-switches 20]
 *
 * --workers 1 (or 0) skips the several-cores section.
 *
 * Installs nginx, HAProxy and wrk from Debian's packages when they are missing. Starts every server on
 * free loopback ports with its files in a temporary folder, and stops each by its pid at the end, on an
 * error and on Ctrl-C. Writes docs/BENCHMARKS.md, docs/benchmarks.svg and bench/results/bench.json.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Colour, otherColour } from "../src/colour.js";
import { benchCertificate } from "./bench-certificate.js";
import { BenchProcesses } from "./bench-processes.js";
import {
  type BenchResults,
  type BenchSettings,
  type NamedTarget,
  type SeveralCores,
  type SeveralCoresSettings,
  type SwitchRound,
  summariseSwitches,
  summariseThroughput,
  type ThroughputRound,
} from "./bench-results.js";
import { type BenchTarget, PROXY_NAMES, type ProxyName, TARGET_NAMES } from "./bench-target.js";
import { benchmarksChartSvg } from "./benchmarks-chart.js";
import { renderBenchmarks } from "./benchmarks-markdown.js";
import { type SwitchAck, startCutoverTarget } from "./cutover-target.js";
import { type DemoUpstream, startDemoUpstreams } from "./demo-upstreams.js";
import { startHaproxyTarget } from "./haproxy-target.js";
import { machineInfo } from "./machine-info.js";
import { startNginxTarget } from "./nginx-target.js";
import { startNodeFloorTarget } from "./node-floor.js";
import { measureUsage } from "./proc-usage.js";
import { measureRssSoak, type RssSoak } from "./rss-soak.js";
import { runSwitchDrill } from "./switch-drill.js";
import { BENCH_PROGRAMS, ensurePrograms } from "./system-packages.js";
import { runWrk } from "./wrk-runner.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function settingsFromArgs(): { settings: BenchSettings; severalCores: SeveralCoresSettings | null } {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "10" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "50" },
      "switch-rounds": { type: "string", default: "3" },
      "soak-requests": { type: "string", default: "1000000" },
      workers: { type: "string", default: "2" },
      "workers-seconds": { type: "string", default: "5" },
      "workers-switches": { type: "string", default: "20" },
    },
  });
  const settings: BenchSettings = {
    connections: Number(values.connections),
    wrkThreads: 1,
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    switchConnections: Number(values.connections),
    switchRounds: Number(values["switch-rounds"]),
    switchBeforeMs: 1_000,
    switchAfterMs: 1_500,
    soakRequests: Number(values["soak-requests"]),
    soakMaxSeconds: 150,
  };
  const workers = Number(values.workers);
  // Shorter rounds and switch windows than the main table's, to keep the section near 80 s.
  const severalCores: SeveralCoresSettings | null =
    workers > 1
      ? {
          workers,
          connections: settings.connections,
          wrkThreads: settings.wrkThreads,
          seconds: Number(values["workers-seconds"]),
          rounds: settings.rounds,
          switches: Number(values["workers-switches"]),
          switchBeforeMs: 500,
          switchAfterMs: 1_000,
        }
      : null;
  return { settings, severalCores };
}

/** The demo app itself, without a proxy: the ceiling every proxy is measured against. */
function directTarget(blue: DemoUpstream): BenchTarget {
  return {
    name: "direct",
    label: "demo app without a proxy (its own CPU and memory)",
    url: `http://127.0.0.1:${blue.port}/`,
    pids: () => [blue.pid],
    switchTo: null,
    switchMethod: "none",
  };
}

/** `items` rotated by `round`, so that each target runs first, second, ... in turn. */
const rotate = <T>(items: readonly T[], round: number): T[] =>
  items.map((_, i) => items[(i + round) % items.length] as T);

async function measureThroughput<N extends string>(
  targets: ReadonlyArray<NamedTarget<N>>,
  s: Pick<BenchSettings, "connections" | "wrkThreads" | "seconds" | "rounds">,
  wrk: string,
): Promise<Array<ThroughputRound<N>>> {
  for (const target of targets) {
    await runWrk({ wrk, url: target.url, connections: s.connections, threads: s.wrkThreads, seconds: 2 });
  }
  const rounds: Array<ThroughputRound<N>> = [];
  for (let round = 0; round < s.rounds; round++) {
    for (const target of rotate(targets, round)) {
      const { result, cpuSeconds, peakRssBytes } = await measureUsage(target.pids, () =>
        runWrk({
          wrk,
          url: target.url,
          connections: s.connections,
          threads: s.wrkThreads,
          seconds: s.seconds,
        }),
      );
      const measured: ThroughputRound<N> = {
        target: target.name,
        round: round + 1,
        ...result,
        cpuSeconds,
        cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.requests),
        peakRssMiB: peakRssBytes / 1024 ** 2,
      };
      rounds.push(measured);
      console.error(
        `round ${round + 1} ${target.name.padEnd(10)} ${measured.rps.toFixed(0).padStart(6)} req/s  p50 ${measured.p50Ms.toFixed(2)} ms  p99 ${measured.p99Ms.toFixed(2)} ms  max ${measured.maxMs.toFixed(1)} ms  cpu ${measured.cpuUsPerRequest.toFixed(1)} us/req  rss ${measured.peakRssMiB.toFixed(1)} MiB  errors ${measured.errors}`,
      );
    }
  }
  return rounds;
}

/**
 * `s.switchRounds` switches of each proxy under load, alternating blue -> green and back; `lastAck` is the
 * last switch a cutover router said it made (null for the others).
 */
async function measureSwitches<N extends string>(
  proxies: ReadonlyArray<NamedTarget<N>>,
  s: Pick<BenchSettings, "switchConnections" | "switchRounds" | "switchBeforeMs" | "switchAfterMs">,
  lastAck: (proxy: N) => SwitchAck | null,
): Promise<Array<SwitchRound<N>>> {
  const serving = new Map<string, Colour>(proxies.map((proxy) => [proxy.name, "blue"]));
  const rounds: Array<SwitchRound<N>> = [];
  for (let round = 0; round < s.switchRounds; round++) {
    for (const proxy of rotate(proxies, round)) {
      const switchTo = proxy.switchTo;
      if (switchTo === null) continue;
      const from = serving.get(proxy.name) ?? "blue";
      let issued = 0n;
      const drill = await runSwitchDrill({
        url: proxy.url,
        connections: s.switchConnections,
        beforeMs: s.switchBeforeMs,
        afterMs: s.switchAfterMs,
        from,
        to: otherColour(from),
        switchTo: (colour) => {
          issued = process.hrtime.bigint();
          return switchTo(colour);
        },
      });
      serving.set(proxy.name, drill.to);
      const ack = lastAck(proxy.name);
      const appliedMs =
        ack !== null && ack.colour === drill.to && ack.hrtime >= issued
          ? Number(ack.hrtime - issued) / 1e6
          : null;
      const measured: SwitchRound<N> = { ...drill, proxy: proxy.name, round: round + 1, appliedMs };
      rounds.push(measured);
      console.error(
        `switch ${round + 1} ${proxy.name.padEnd(10)} ${from} -> ${drill.to}: ${drill.requests} requests, ${drill.errors} failed ${JSON.stringify(drill.errorKinds)}, first new ${fmt(drill.firstNewMs)} ms, last old ${fmt(drill.lastOldMs)} ms, old after first new ${drill.oldAfterFirstNew}${appliedMs === null ? "" : `, applied ${fmt(appliedMs)} ms`}`,
      );
      await sleep(500);
    }
  }
  return rounds;
}

/** The built-in router's memory over a million requests (--soak-requests; 0 skips it). */
async function soakCutover(
  targets: readonly BenchTarget[],
  s: BenchSettings,
  wrk: string,
): Promise<RssSoak | null> {
  const cutover = targets.find((target) => target.name === "cutover");
  if (cutover === undefined || s.soakRequests <= 0) return null;
  const soak = await measureRssSoak(cutover, {
    wrk,
    connections: s.connections,
    threads: s.wrkThreads,
    requests: s.soakRequests,
    maxSeconds: s.soakMaxSeconds,
  });
  console.error(
    `soak cutover: ${soak.requests} requests in ${soak.seconds.toFixed(0)} s, RSS ${soak.afterWarmupMiB.toFixed(1)} -> ${soak.afterMiB.toFixed(1)} MiB (${(soak.growth * 100).toFixed(1)} %), errors ${soak.errors}`,
  );
  return soak;
}

/**
 * Several cores: cutover with router.workers: N against nginx with N workers, in front of the same demo
 * apps, the same interleaved rounds as the main table (shorter), then `c.switches` switches of the router
 * under load. Both targets are started for the section and stopped after it.
 */
async function measureSeveralCores(
  processes: BenchProcesses,
  upstreams: Record<Colour, DemoUpstream>,
  nginx: string,
  wrk: string,
  work: string,
  c: SeveralCoresSettings,
): Promise<SeveralCores> {
  let ack: SwitchAck | null = null;
  const cutover = await startCutoverTarget(
    processes,
    upstreams,
    work,
    (received) => {
      ack = received;
    },
    null,
    c.workers,
  );
  const targets = [cutover];
  try {
    targets.push(
      await startNginxTarget(processes, nginx, upstreams, join(work, `nginx-${c.workers}w`), null, c.workers),
    );
    console.error(
      `several cores: ${targets.map((target) => `${target.name} (pids ${target.pids().join(", ")})`).join(", ")}`,
    );
    const throughput = await measureThroughput(targets, c, wrk);
    const switches = await measureSwitches(
      [cutover],
      {
        switchConnections: c.connections,
        switchRounds: c.switches,
        switchBeforeMs: c.switchBeforeMs,
        switchAfterMs: c.switchAfterMs,
      },
      () => ack,
    );
    const summary = summariseSwitches(switches, cutover.name);
    console.error(
      `several cores: ${summary.switches} switches of ${cutover.name}, ${summary.errors} failed requests, ${summary.oldAfterFirstNew} old-colour answers after the first new-colour answer`,
    );
    return {
      settings: c,
      targets: targets.map(({ name, label, switchMethod }) => ({ name, label, switchMethod })),
      throughput: {
        rounds: throughput,
        summary: targets.map((target) => summariseThroughput(throughput, target.name)),
      },
      switches: { rounds: switches, summary },
    };
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
}

/** The main table's proxies, the ones switched under load. */
const isProxy = (target: BenchTarget): target is BenchTarget & NamedTarget<ProxyName> =>
  (PROXY_NAMES as readonly string[]).includes(target.name) && target.switchTo !== null;

const fmt = (value: number | null) => (value === null ? "-" : value.toFixed(1));

async function main(): Promise<void> {
  const { settings, severalCores: severalCoresSettings } = settingsFromArgs();
  const startedAt = Date.now();
  const paths = ensurePrograms(BENCH_PROGRAMS);
  const machine = machineInfo(paths);
  const work = mkdtempSync(join(tmpdir(), "cutover-bench-"));
  const processes = new BenchProcesses();
  let ack: SwitchAck | null = null;
  try {
    const upstreams = await startDemoUpstreams(processes, root, work);
    const certificate = await benchCertificate(work);
    const targets = [
      directTarget(upstreams.blue),
      await startNodeFloorTarget(processes, upstreams.blue, join(work, "node-floor.log")),
      await startCutoverTarget(processes, upstreams, work, (received) => {
        ack = received;
      }),
      await startNginxTarget(processes, paths.nginx as string, upstreams, join(work, "nginx")),
      await startHaproxyTarget(processes, machine.haproxy, upstreams, join(work, "haproxy")),
      await startCutoverTarget(processes, upstreams, work, () => {}, certificate),
      await startNginxTarget(
        processes,
        paths.nginx as string,
        upstreams,
        join(work, "nginx-tls"),
        certificate,
      ),
    ];
    console.error(`machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB`);
    const throughput = await measureThroughput(targets, settings, paths.wrk as string);
    const soak = await soakCutover(targets, settings, paths.wrk as string);
    const proxies = targets.filter(isProxy);
    const switches = await measureSwitches(proxies, settings, (proxy) => (proxy === "cutover" ? ack : null));
    const severalCores =
      severalCoresSettings === null
        ? null
        : await measureSeveralCores(
            processes,
            upstreams,
            paths.nginx as string,
            paths.wrk as string,
            work,
            severalCoresSettings,
          );
    const results: BenchResults = {
      at: new Date(startedAt).toISOString(),
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
      machine,
      settings,
      targets: targets.map(({ name, label, switchMethod }) => ({ name, label, switchMethod })),
      throughput: {
        rounds: throughput,
        summary: TARGET_NAMES.map((name) => summariseThroughput(throughput, name)),
      },
      switches: { rounds: switches, summary: PROXY_NAMES.map((name) => summariseSwitches(switches, name)) },
      rssSoak: soak,
      severalCores,
    };
    write(results);
  } finally {
    await processes.stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

function write(results: BenchResults): void {
  const json = join(root, "bench", "results", "bench.json");
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  const docs = join(root, "docs");
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, "benchmarks.svg"), benchmarksChartSvg(results));
  const profile = join(root, "bench", "cpu-profile.md");
  const markdown = renderBenchmarks(
    results,
    "benchmarks.svg",
    existsSync(profile) ? readFileSync(profile, "utf8") : "",
  );
  writeFileSync(join(docs, "BENCHMARKS.md"), markdown);
  console.log(markdown.split("\n## Method")[0]);
  console.log(`written: docs/BENCHMARKS.md, docs/benchmarks.svg, bench/results/bench.json`);
}

await main();
