/**
 * Live latency through the router with mirroring off and on, measured side by side: one router process in
 * front of a blue (live) and a green (idle) demo app, one continuous open-loop stream of GETs, and mirroring
 * switched on and off every `--segment` (order off,on,on,off,... so a slow stretch of the machine falls on
 * both alike). Each answer counts for the mode in force when its request was sent; requests sent in the
 * first `--guard` of a segment are left out, so copies still in flight from an "on" segment do not count
 * for "off". Percentiles over all answers of a mode. `--share 0` measures the noise floor: the same
 * toggling with nothing mirrored. Loopback only.
 *
 *   npm run bench:mirror [-- --rate 500 --segments 40 --segment 2s --share 0.5]
 *
 * Prints the figures and writes bench/results/mirror.json.
 */

import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { parseDuration } from "../src/duration.js";
import type { MirrorOptions } from "../src/router/mirror.js";
import { Router } from "../src/router/router.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const demoApp = join(root, "dist/examples/demo-app/src/server.js");

type Mode = "off" | "on";
/** Segment order: every four segments hold two of each mode, mirrored in time. */
const PATTERN: readonly Mode[] = ["off", "on", "on", "off"];

/** Child mode: a router in front of blue (live) and green (idle); its parent says when to mirror. */
async function serveRouter(
  bluePort: number,
  greenPort: number,
  share: number,
  maxPerSecond: number | undefined,
): Promise<void> {
  const router = new Router({
    listen: { host: "127.0.0.1", port: 0 },
    preview: null,
    sticky: false,
    initialActive: "blue",
  });
  router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port: bluePort }]);
  router.setEndpoints("green", [{ id: "green", host: "127.0.0.1", port: greenPort }]);
  const mirror: MirrorOptions = {
    share,
    maxPerSecond,
    methods: ["GET", "HEAD"],
    queueLimit: 256,
    timeoutMs: 5_000,
  };
  await router.start();
  process.on("message", (mode: Mode) => {
    router.setMirror(mode === "on" ? mirror : null);
    process.send?.({ mode });
  });
  process.on("disconnect", () => void router.close().then(() => process.exit(0)));
  process.send?.({ port: router.address().port });
}

function startRouterChild(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), args, {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (message: { port: number }) => resolve({ child, port: message.port }));
    child.once("exit", (code) => reject(new Error(`the router exited with ${code}`)));
  });
}

/** Tells the router to mirror or not, and waits until it has. */
function setMode(child: ChildProcess, mode: Mode): Promise<void> {
  return new Promise((resolve) => {
    child.once("message", () => resolve());
    child.send(mode);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Answer {
  readonly mode: Mode;
  readonly counted: boolean;
  readonly ms: number;
  readonly ok: boolean;
}

/**
 * Open loop: `rate` GETs a second, `segments` segments of `segmentMs`, the mode switched at each segment's
 * start (the switch itself takes a message round trip, during which the stream goes on).
 */
async function run(
  port: number,
  router: ChildProcess,
  settings: { rate: number; segments: number; segmentMs: number; guardMs: number },
): Promise<Answer[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  const answers: Answer[] = [];
  const pending: Promise<void>[] = [];
  let mode: Mode = "off";
  let segmentStart = performance.now();
  let stopped = false;
  const switcher = (async () => {
    for (let i = 0; i < settings.segments; i++) {
      const next = PATTERN[i % PATTERN.length] as Mode;
      await setMode(router, next);
      mode = next;
      segmentStart = performance.now();
      await sleep(settings.segmentMs);
    }
    stopped = true;
  })();
  const started = performance.now();
  for (let sent = 0; !stopped; sent++) {
    const wait = started + (sent * 1000) / settings.rate - performance.now();
    if (wait > 0) await sleep(wait);
    const t0 = performance.now();
    const at = { mode, counted: t0 - segmentStart >= settings.guardMs };
    pending.push(
      pool
        .request({ path: "/", method: "GET" })
        .then(async (response) => {
          await response.body.dump();
          answers.push({ ...at, ms: performance.now() - t0, ok: response.statusCode === 200 });
        })
        .catch(() => {
          answers.push({ ...at, ms: performance.now() - t0, ok: false });
        }),
    );
  }
  await switcher;
  await Promise.all(pending);
  await pool.close();
  return answers;
}

/** The q-quantile of sorted values (nearest rank). */
const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

function figures(answers: readonly Answer[], mode: Mode) {
  const mine = answers.filter((a) => a.mode === mode && a.counted);
  const ms = mine.map((a) => a.ms).sort((a, b) => a - b);
  return {
    answers: ms.length,
    errors: mine.filter((a) => !a.ok).length,
    p50Ms: quantile(ms, 0.5),
    p90Ms: quantile(ms, 0.9),
    p99Ms: quantile(ms, 0.99),
  };
}

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new Error(`${flag} expects a duration such as 2s or 200ms, got "${value}"`);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: "500" },
      segments: { type: "string", default: "40" },
      segment: { type: "string", default: "2s" },
      guard: { type: "string", default: "200ms" },
      share: { type: "string", default: "0.5" },
      "max-per-second": { type: "string" },
      "serve-router": { type: "string" },
    },
  });
  if (values["serve-router"] !== undefined) {
    const [blue, green, share, maxPerSecond] = values["serve-router"].split(",").map(Number);
    return serveRouter(blue as number, green as number, share as number, maxPerSecond || undefined);
  }
  const settings = {
    rate: Number(values.rate),
    segments: Number(values.segments),
    segmentMs: duration(values.segment as string, "--segment"),
    guardMs: duration(values.guard as string, "--guard"),
    share: Number(values.share),
    maxPerSecond: values["max-per-second"] === undefined ? undefined : Number(values["max-per-second"]),
  };
  if (settings.maxPerSecond !== undefined && !(settings.maxPerSecond > 0))
    throw new Error(`--max-per-second expects a number above 0, got "${values["max-per-second"]}"`);
  const children: ChildProcess[] = [];
  try {
    const app = async (colour: string) => {
      const port = await freePort();
      const child = spawn(process.execPath, [demoApp], {
        env: { ...process.env, PORT: String(port), ENVIRONMENT: colour, APP_VERSION: colour },
        stdio: "ignore",
      });
      children.push(child);
      return port;
    };
    const [bluePort, greenPort] = [await app("blue"), await app("green")];
    await sleep(500);
    const router = await startRouterChild([
      "--serve-router",
      `${bluePort},${greenPort},${settings.share},${settings.maxPerSecond ?? 0}`,
    ]);
    children.push(router.child);
    await run(router.port, router.child, { ...settings, segments: 2, segmentMs: 1_000 }); // warm-up
    const loadBefore = loadavg()[0];
    const answers = await run(router.port, router.child, settings);
    const off = figures(answers, "off");
    const on = figures(answers, "on");
    const result = {
      at: new Date().toISOString(),
      environment: {
        node: process.version,
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? "",
        loadAverage: [loadBefore, loadavg()[0]],
      },
      settings,
      off,
      on,
      ratio: { p50: on.p50Ms / off.p50Ms, p90: on.p90Ms / off.p90Ms, p99: on.p99Ms / off.p99Ms },
    };
    const out = join(root, "bench/results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "mirror.json"), `${JSON.stringify(result, null, 2)}\n`);
    const line = (name: string, f: typeof off) =>
      `  ${name}: ${f.answers} answers, p50 ${f.p50Ms.toFixed(2)} ms  p90 ${f.p90Ms.toFixed(2)} ms  p99 ${f.p99Ms.toFixed(2)} ms  errors ${f.errors}`;
    const cap = settings.maxPerSecond === undefined ? "" : ` (at most ${settings.maxPerSecond} a second)`;
    console.log(
      `mirroring ${settings.share * 100}% of GETs${cap}, ${settings.rate} req/s open loop, ${settings.segments} segments of ${settings.segmentMs} ms, off and on interleaved:`,
    );
    console.log(line("off", off));
    console.log(line("on ", on));
    console.log(
      `  on/off: p50 ${result.ratio.p50.toFixed(3)}  p90 ${result.ratio.p90.toFixed(3)}  p99 ${result.ratio.p99.toFixed(3)}`,
    );
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}

await main();
