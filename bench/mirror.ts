/**
 * Live latency through the router with mirroring off and on, side by side in one run: two router
 * processes in front of the same blue and green demo apps, one mirroring a share of GETs to green,
 * rounds alternating between them at the same open-loop rate; medians over the rounds. Loopback only.
 *
 *   npm run build && node dist/bench/mirror.js [-- --rate 800 --seconds 4 --rounds 3 --share 0.5]
 *
 * Prints a table and writes bench/results/mirror.json.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { Router } from "../src/router/router.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const demoApp = join(root, "dist/examples/demo-app/src/server.js");

type Mode = "off" | "on";
interface Round {
  readonly mode: Mode;
  readonly sent: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Child mode: a router in front of blue (live) and green (idle), mirroring `share` when > 0. */
async function serveRouter(bluePort: number, greenPort: number, share: number): Promise<void> {
  const router = new Router({
    listen: { host: "127.0.0.1", port: 0 },
    preview: null,
    sticky: false,
    initialActive: "blue",
  });
  router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port: bluePort }]);
  router.setEndpoints("green", [{ id: "green", host: "127.0.0.1", port: greenPort }]);
  if (share > 0) router.setMirror({ share, methods: ["GET", "HEAD"], queueLimit: 256, timeoutMs: 5_000 });
  await router.start();
  process.stdout.write(`${JSON.stringify({ port: router.address().port })}\n`);
  process.on("SIGTERM", () => void router.close().then(() => process.exit(0)));
}

function startChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split("\n")) {
        try {
          const parsed = JSON.parse(line) as { port?: number };
          if (parsed.port) return resolve({ child, port: parsed.port });
        } catch {
          // not a JSON line
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Open loop: `rate` GETs a second for `seconds`; latency of each answer. */
async function load(port: number, rate: number, seconds: number, mode: Mode): Promise<Round> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  while (sent < total) {
    const wait = started + (sent * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent++;
    const t0 = performance.now();
    pending.push(
      pool
        .request({ path: "/", method: "GET" })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode !== 200) errors++;
          latencies.push(performance.now() - t0);
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(pending);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? Number.NaN;
  return { mode, sent, errors, p50Ms: at(0.5), p99Ms: at(0.99) };
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: "800" },
      seconds: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      share: { type: "string", default: "0.5" },
      "serve-router": { type: "string" },
    },
  });
  if (values["serve-router"] !== undefined) {
    const [blue, green, share] = values["serve-router"].split(",").map(Number);
    return serveRouter(blue as number, green as number, share as number);
  }
  const settings = {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    share: Number(values.share),
  };
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
    await new Promise((resolve) => setTimeout(resolve, 500));
    const self = fileURLToPath(import.meta.url);
    const off = await startChild([self, "--serve-router", `${bluePort},${greenPort},0`], process.env);
    const on = await startChild(
      [self, "--serve-router", `${bluePort},${greenPort},${settings.share}`],
      process.env,
    );
    children.push(off.child, on.child);
    await load(off.port, settings.rate, 1, "off"); // warm-up
    await load(on.port, settings.rate, 1, "on");
    const rounds: Round[] = [];
    for (let i = 0; i < settings.rounds; i++) {
      rounds.push(await load(off.port, settings.rate, settings.seconds, "off"));
      rounds.push(await load(on.port, settings.rate, settings.seconds, "on"));
    }
    const summary = (mode: Mode) => {
      const mine = rounds.filter((r) => r.mode === mode);
      return {
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        errors: mine.reduce((s, r) => s + r.errors, 0),
      };
    };
    const result = {
      at: new Date().toISOString(),
      environment: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "" },
      settings,
      off: summary("off"),
      on: summary("on"),
      ratio: {
        p99: summary("on").p99Ms / summary("off").p99Ms,
        p50: summary("on").p50Ms / summary("off").p50Ms,
      },
      rounds,
    };
    const out = join(root, "bench/results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "mirror.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `mirroring ${settings.share * 100}% of GETs, ${settings.rate} req/s open loop, ${settings.rounds} rounds of ${settings.seconds}s, medians:`,
    );
    console.log(
      `  off: p50 ${result.off.p50Ms.toFixed(2)} ms  p99 ${result.off.p99Ms.toFixed(2)} ms  errors ${result.off.errors}`,
    );
    console.log(
      `  on:  p50 ${result.on.p50Ms.toFixed(2)} ms  p99 ${result.on.p99Ms.toFixed(2)} ms  errors ${result.on.errors}`,
    );
    console.log(`  p99 on/off: ${result.ratio.p99.toFixed(3)}`);
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}

await main();
