/**
 * The dashboard's own cost: the router's throughput with the dashboard page open against the same daemon
 * without it, interleaved in one run, median of N rounds each. Three cases, in rotating order:
 *
 *   bare     no sampler, no page            (a daemon that samples nothing)
 *   sampler  the per-colour sampler at 1 s   (what the daemon runs anyway for analysis and the charts)
 *   page     sampler + the dashboard open in headless Chromium, streaming live
 *
 * The daemon (router + local platform running the demo app + engine + admin API with the dashboard) runs in
 * a child process; the load generator (undici Pool, N keep-alive connections) and Chromium run beside it.
 *
 *   npm run build && node dist/bench/dashboard.js [--connections 32 --seconds 4 --rounds 5]
 *
 * Prints a table and writes bench/results/dashboard.json.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { Pool } from "undici";
import { ColourSampler } from "../src/analysis/colour-sampler.js";
import { RouterMetricSource } from "../src/analysis/sources/router-metric-source.js";
import { loadConfig } from "../src/config/load.js";
import { AdminServer } from "../src/daemon/admin-server.js";
import { Daemon } from "../src/daemon/daemon.js";
import { readOrCreateToken } from "../src/daemon/state-files.js";
import { Dashboard } from "../src/dashboard/dashboard.js";
import { dashboardUrl } from "../src/dashboard/dashboard-url.js";
import { silentLogger } from "../src/log.js";
import { freePort } from "../src/process/free-port.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const CASES = ["bare", "sampler", "page"] as const;
type Case = (typeof CASES)[number];

/**
 * Child: the daemon with the dashboard wired as daemon.ts is to wire it (until it does, the admin server
 * is swapped here). Reads "sampler on|off" lines on stdin; prints one JSON line when ready and "ok" per command.
 */
async function serve(config: string): Promise<void> {
  const loaded = loadConfig(config);
  const logger = silentLogger();
  const daemon = await Daemon.start({ loaded, logger });
  const sampler = new ColourSampler({
    source: new RouterMetricSource(daemon.router),
    intervalMs: 1000,
    logger,
  });
  const { listen, preview, admin: address } = loaded.config.router;
  const dashboard = new Dashboard({
    engine: daemon.engine,
    ticks: sampler,
    reportsDir: join(loaded.stateDir, "reports"),
    addresses: {
      live: `http://${listen.host}:${listen.port}`,
      preview: preview ? `http://${preview.host}:${preview.port}` : null,
    },
    logger,
  });
  await daemon.admin.close();
  const token = readOrCreateToken(loaded.stateDir);
  const admin = new AdminServer({
    address,
    token,
    engine: daemon.engine,
    metrics: async () => ({
      contentType: daemon.router.metricsContentType,
      text: await daemon.router.metrics(),
    }),
    onShutdown: () => undefined,
    routes: dashboard.routes,
    publicFiles: dashboard.files,
    logger,
  });
  await admin.start();
  const stop = async () => {
    sampler.stop();
    dashboard.close();
    await daemon.stop();
    await admin.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "sampler on") sampler.start();
    if (line === "sampler off") sampler.stop();
    const { user, system } = process.cpuUsage();
    process.stdout.write(
      `${JSON.stringify({ ok: line, viewers: dashboard.viewers, cpuMicros: user + system })}\n`,
    );
  }
}

class DaemonChild {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  constructor(config: string) {
    this.#child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve", config], {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    if (!this.#child.stdout) throw new Error("no stdout");
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
  }

  async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error("the daemon child ended");
    return JSON.parse(value as string) as Record<string, unknown>;
  }

  async send(command: string): Promise<Record<string, unknown>> {
    this.#child.stdin?.write(`${command}\n`);
    return this.next();
  }

  stop(): void {
    this.#child.kill("SIGTERM");
  }
}

function writeProject(ports: { listen: number; preview: number; admin: number }): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-bench-dashboard-"));
  const demo = join(root, "dist/examples/demo-app/src/server.js");
  writeFileSync(
    join(dir, "cutover.yaml"),
    `service: bench
version: 1.0.0
replicas: 1
start:
  command: "exec node ${demo}"
health:
  interval: 1s
router:
  listen: 127.0.0.1:${ports.listen}
  preview: 127.0.0.1:${ports.preview}
  admin: 127.0.0.1:${ports.admin}
`,
  );
  return dir;
}

async function load(
  port: number,
  connections: number,
  seconds: number,
): Promise<{ rps: number; errors: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  let count = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        const response = await pool.request({ path: "/", method: "GET" });
        await response.body.dump();
        if (response.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      count++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { rps: count / elapsed, errors };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: "string", default: "32" },
      seconds: { type: "string", default: "4" },
      rounds: { type: "string", default: "5" },
      "idle-seconds": { type: "string", default: "5" },
      serve: { type: "string" },
    },
  });
  if (values.serve !== undefined) return serve(values.serve);
  const settings = {
    connections: Number(values.connections),
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    idleSeconds: Number(values["idle-seconds"]),
  };
  const ports = {
    listen: await freePort("127.0.0.1"),
    preview: await freePort("127.0.0.1"),
    admin: await freePort("127.0.0.1"),
  };
  const dir = writeProject(ports);
  const daemon = new DaemonChild(join(dir, "cutover.yaml"));
  const profile = mkdtempSync(join(tmpdir(), "cutover-bench-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CUTOVER_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  try {
    await daemon.send("hello");
    const token = readOrCreateToken(join(dir, ".cutover"));
    const page = await browser.newPage();
    const open = async (wanted: boolean) => {
      if (wanted) {
        await page.goto(dashboardUrl(`http://127.0.0.1:${ports.admin}`, token));
        await page.locator("#connection[data-state=live]").waitFor();
      } else await page.goto("about:blank");
    };
    await load(ports.listen, settings.connections, 1); // warm-up
    const rounds: Round[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const order = CASES.map((_, i) => CASES[(i + round) % CASES.length] as Case);
      for (const which of order) {
        await daemon.send(which === "bare" ? "sampler off" : "sampler on");
        await open(which === "page");
        await sleep(500);
        const before = await daemon.send("viewers");
        const result = await load(ports.listen, settings.connections, settings.seconds);
        const after = await daemon.send("cpu");
        const requests = result.rps * settings.seconds;
        const cpuMsPer1k = (Number(after.cpuMicros) - Number(before.cpuMicros)) / requests;
        rounds.push({ case: which, ...result, cpuMsPer1k, viewers: before.viewers });
        console.error(
          `round ${round + 1} ${which.padEnd(7)} ${result.rps.toFixed(0)} req/s, daemon CPU ${cpuMsPer1k.toFixed(1)} ms per 1000 requests (${result.errors} errors, ${before.viewers} page(s) open)`,
        );
      }
    }
    // The fixed cost, free of the load's noise: the daemon's CPU per second with no traffic, per case.
    const idle: { case: Case; cpuMsPerSecond: number }[] = [];
    for (let round = 0; round < 3; round++) {
      for (const which of CASES.map((_, i) => CASES[(i + round) % CASES.length] as Case)) {
        await daemon.send(which === "bare" ? "sampler off" : "sampler on");
        await open(which === "page");
        await sleep(500);
        const before = await daemon.send("cpu");
        const started = performance.now();
        await sleep(settings.idleSeconds * 1000);
        const after = await daemon.send("cpu");
        const cpuMsPerSecond =
          (Number(after.cpuMicros) - Number(before.cpuMicros)) / (performance.now() - started);
        idle.push({ case: which, cpuMsPerSecond });
        console.error(
          `idle ${round + 1} ${which.padEnd(7)} daemon CPU ${cpuMsPerSecond.toFixed(2)} ms per second`,
        );
      }
    }
    report(rounds, idle, settings);
  } finally {
    await browser.close();
    daemon.stop();
    rmSync(profile, { recursive: true, force: true });
  }
}

interface Round {
  readonly case: Case;
  readonly rps: number;
  readonly errors: number;
  /** The daemon process's CPU time (user + system) per 1000 requests: steadier than req/s on a busy machine. */
  readonly cpuMsPer1k: number;
  readonly viewers: unknown;
}

function report(
  rounds: readonly Round[],
  idle: readonly { case: Case; cpuMsPerSecond: number }[],
  settings: Record<string, number>,
): void {
  const per = (key: "rps" | "cpuMsPer1k") =>
    Object.fromEntries(
      CASES.map((c) => [c, median(rounds.filter((r) => r.case === c).map((r) => r[key]))]),
    ) as Record<Case, number>;
  const rps = per("rps");
  const idleCpuMsPerSecond = Object.fromEntries(
    CASES.map((c) => [c, median(idle.filter((r) => r.case === c).map((r) => r.cpuMsPerSecond))]),
  ) as Record<Case, number>;
  const cpuMsPer1k = per("cpuMsPer1k");
  const ratio = {
    pageVsSampler: rps.page / rps.sampler,
    pageVsBare: rps.page / rps.bare,
    samplerVsBare: rps.sampler / rps.bare,
    cpuPageVsSampler: cpuMsPer1k.page / cpuMsPer1k.sampler,
    cpuPageVsBare: cpuMsPer1k.page / cpuMsPer1k.bare,
  };
  console.log(
    `GET / through the router to the demo app, ${settings.connections} keep-alive connections, median of ${settings.rounds} x ${settings.seconds} s`,
  );
  for (const c of CASES) {
    console.log(
      `${c.padEnd(8)} ${rps[c].toFixed(0).padStart(8)} req/s   daemon CPU ${cpuMsPer1k[c].toFixed(2)} ms / 1000 requests`,
    );
  }
  console.log(
    `throughput: page / sampler ${ratio.pageVsSampler.toFixed(3)}, page / bare ${ratio.pageVsBare.toFixed(3)}, sampler / bare ${ratio.samplerVsBare.toFixed(3)}`,
  );
  console.log(
    `daemon CPU per request: page / sampler ${ratio.cpuPageVsSampler.toFixed(3)}, page / bare ${ratio.cpuPageVsBare.toFixed(3)}`,
  );
  console.log(
    `with no traffic, daemon CPU per second: ${CASES.map((c) => `${c} ${idleCpuMsPerSecond[c].toFixed(2)} ms`).join(", ")}`,
  );
  const out = join(root, "bench", "results", "dashboard.json");
  mkdirSync(dirname(out), { recursive: true });
  const environment = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown" };
  writeFileSync(
    out,
    `${JSON.stringify({ at: new Date().toISOString(), environment, settings, rps, cpuMsPer1k, idleCpuMsPerSecond, ratio, rounds, idle }, null, 2)}\n`,
  );
  console.log(`written to ${out}`);
}

await main();
