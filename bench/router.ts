/**
 * Throughput and latency through the built-in router against the demo app directly, interleaved in
 * one run, median of 3 rounds each. The demo app and the router run in child processes; the load
 * generator (undici Pool, N keep-alive connections, fixed duration) runs here. Loopback only.
 *
 *   npm run build && npm run bench [-- --connections 50 --seconds 5 --rounds 3]
 *
 * Prints a table and writes bench/results/router.json.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { Router } from "../src/router/router.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

interface RoundResult {
  readonly target: Target;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}
type Target = "direct" | "router";

/** Runs the router in this process, in front of the upstream port given; prints {"port": N} once listening. */
async function serveRouter(upstreamPort: number): Promise<void> {
  const router = new Router({
    listen: { host: "127.0.0.1", port: 0 },
    preview: null,
    sticky: false,
    initialActive: "blue",
  });
  router.setEndpoints("blue", [{ id: "demo", host: "127.0.0.1", port: upstreamPort }]);
  await router.start();
  process.stdout.write(`${JSON.stringify({ port: router.address().port })}\n`);
  process.on("SIGTERM", () => void router.close().then(() => process.exit(0)));
}

/** Starts a child and resolves with the first stdout line that parses as JSON with a port. */
function startChild(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        try {
          const parsed = JSON.parse(line) as { port?: number };
          if (typeof parsed.port === "number") return resolve({ child, port: parsed.port });
        } catch {
          // not a JSON line yet
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code} before listening`)));
  });
}

/** A loopback port that was free a moment ago (the demo app needs its port up front). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** N connections each sending GET / back to back for `seconds`; latencies in ms. */
async function load(
  port: number,
  connections: number,
  seconds: number,
): Promise<Omit<RoundResult, "target">> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const latencies = new Float64Array(4_000_000);
  let count = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const response = await pool.request({ path: "/", method: "GET" });
        await response.body.dump();
        if (response.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      if (count < latencies.length) latencies[count++] = performance.now() - sent;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  const sorted = latencies.subarray(0, count).sort();
  const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] ?? Number.NaN;
  return { requests: count, errors, seconds: elapsed, rps: count / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

function summarise(rounds: readonly RoundResult[], target: Target) {
  const mine = rounds.filter((round) => round.target === target);
  return {
    rps: median(mine.map((round) => round.rps)),
    p50Ms: median(mine.map((round) => round.p50Ms)),
    p99Ms: median(mine.map((round) => round.p99Ms)),
    errors: mine.reduce((sum, round) => sum + round.errors, 0),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: "string", default: "50" },
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      "serve-router": { type: "string" },
    },
  });
  if (values["serve-router"] !== undefined) return serveRouter(Number(values["serve-router"]));
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  const roundsWanted = Number(values.rounds);

  const demo = await startChild([join(root, "dist/examples/demo-app/src/server.js")], {
    ...process.env,
    PORT: String(await freePort()),
    APP_VERSION: "bench",
  });
  const router = await startChild(
    [fileURLToPath(import.meta.url), "--serve-router", String(demo.port)],
    process.env,
  );
  const ports: Record<Target, number> = { direct: demo.port, router: router.port };
  try {
    for (const target of ["direct", "router"] as const) await load(ports[target], connections, 1);
    const rounds: RoundResult[] = [];
    for (let round = 0; round < roundsWanted; round++) {
      const order: Target[] = round % 2 === 0 ? ["direct", "router"] : ["router", "direct"];
      for (const target of order) {
        const result = { target, ...(await load(ports[target], connections, seconds)) };
        rounds.push(result);
        console.error(
          `round ${round + 1} ${target.padEnd(6)} ${result.rps.toFixed(0)} req/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms`,
        );
      }
    }
    report(rounds, { connections, seconds, rounds: roundsWanted });
  } finally {
    router.child.kill("SIGTERM");
    demo.child.kill("SIGTERM");
  }
}

function report(rounds: readonly RoundResult[], settings: Record<string, number>): void {
  const direct = summarise(rounds, "direct");
  const viaRouter = summarise(rounds, "router");
  const ratio = {
    rps: viaRouter.rps / direct.rps,
    p50: viaRouter.p50Ms / direct.p50Ms,
    p99: viaRouter.p99Ms / direct.p99Ms,
  };
  const row = (name: string, s: typeof direct) =>
    `${name.padEnd(8)} ${s.rps.toFixed(0).padStart(9)} ${s.p50Ms.toFixed(2).padStart(9)} ${s.p99Ms.toFixed(2).padStart(9)} ${String(s.errors).padStart(7)}`;
  console.log(
    `GET / on the demo app, ${settings.connections} keep-alive connections, median of ${settings.rounds} x ${settings.seconds} s`,
  );
  console.log(
    `${"target".padEnd(8)} ${"req/s".padStart(9)} ${"p50 ms".padStart(9)} ${"p99 ms".padStart(9)} ${"errors".padStart(7)}`,
  );
  console.log(row("direct", direct));
  console.log(row("router", viaRouter));
  console.log(
    `${"ratio".padEnd(8)} ${ratio.rps.toFixed(2).padStart(9)} ${ratio.p50.toFixed(2).padStart(9)} ${ratio.p99.toFixed(2).padStart(9)}`,
  );
  const out = join(root, "bench", "results", "router.json");
  mkdirSync(dirname(out), { recursive: true });
  const environment = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown" };
  const result = {
    at: new Date().toISOString(),
    environment,
    settings,
    direct,
    router: viaRouter,
    ratio,
    rounds,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${out}`);
}

await main();
