/**
 * The built-in router as the bench runs it: a process of its own in front of the blue and green demo
 * apps, blue active. It prints {"port": N} once listening, and takes admin commands on stdin, one a line:
 *
 *   switch green     ->  {"switched": "green", "hrtime": "<process.hrtime.bigint() when the pointer moved>"}
 *
 * The commands are read by an admin worker thread (router-admin-worker.ts) that moves the router's shared
 * active-colour pointer itself, so a switch does not wait behind the proxy's I/O on the main event loop.
 * With --admin main-loop they are read on the main thread instead (the router's switchTo()), for comparison.
 * With --workers N (N > 1) the router is the product's RouterWorkers: N router processes (node:cluster)
 * sharing the listener, as `router.workers: N` runs them; a switch is answered once every worker has switched
 * (--admin is then always main-loop). The first line says where it listens and which processes it runs in:
 * {"port": P, "pids": [this process, the workers...]}.
 * It closes and exits when stdin ends, so it cannot outlive the bench.
 *
 *   node dist/bench/serve-router.js --blue 41001 --green 41002 [--admin worker|main-loop] [--workers N]
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { pino } from "pino";
import { isColour } from "../src/colour.js";
import type { LoadedConfig } from "../src/config/load.js";
import { Router } from "../src/router/router.js";
import type { RouterWorkers } from "../src/router/router-workers.js";
import { SharedActiveColour } from "../src/router/shared-active-colour.js";
import { TlsCertificates } from "../src/router/tls-certificates.js";
import { WARM_CONNECTIONS } from "../src/router/warm-sockets.js";
import type { RouterAdminData } from "./router-admin-worker.js";

const { values } = parseArgs({
  options: {
    blue: { type: "string" },
    green: { type: "string" },
    admin: { type: "string", default: "worker" },
    workers: { type: "string", default: "1" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
  },
});
const certificate = values["tls-cert"];
const key = values["tls-key"];
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 1)
  throw new Error(`--workers: expected a whole number >= 1, got ${values.workers}`);
const activeColour = new SharedActiveColour("blue");
const router: Router | RouterWorkers =
  workers > 1
    ? await startWorkers(workers)
    : new Router({
        listen: { host: "127.0.0.1", port: 0 },
        preview: null,
        sticky: false,
        initialActive: "blue",
        activeColour,
        // As a user who wants the fastest switch sets router.warmConnections: the idle colour's connections are open.
        warmConnections: WARM_CONNECTIONS,
        tls:
          certificate && key
            ? new TlsCertificates([{ cert: certificate, key }], pino({ enabled: false }))
            : null,
      });
router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port: Number(values.blue) }]);
router.setEndpoints("green", [{ id: "green", host: "127.0.0.1", port: Number(values.green) }]);
await router.start();
const pids = "pids" in router ? [process.pid, ...router.pids] : [process.pid];
process.stdout.write(`${JSON.stringify({ port: router.address().port, pids })}\n`);

const exit = (): void => void router.close().then(() => process.exit(0));
process.on("SIGTERM", exit);

/**
 * RouterWorkers, loaded only here: the one-process router's figures must not carry the config schema's
 * modules, which it does not need.
 */
async function startWorkers(n: number): Promise<RouterWorkers> {
  const { RouterWorkers } = await import("../src/router/router-workers.js");
  const loaded = await workersConfig(n);
  return new RouterWorkers({ loaded, workers: n, logger: pino({ enabled: false }) });
}

/** cutover.yaml's router section as the one-process router above is set up, with `router.workers: n`. */
async function workersConfig(n: number): Promise<LoadedConfig> {
  const { parseConfig } = await import("../src/config/load.js");
  if (certificate || key) throw new Error("--workers with --tls-cert is not measured by the bench");
  const yaml = [
    "service: bench",
    "version: 1.0.0",
    "start:",
    "  command: 'true'",
    "router:",
    "  listen: 127.0.0.1:1",
    "  preview: 127.0.0.1:1",
    `  warmConnections: ${WARM_CONNECTIONS}`,
    `  workers: ${n}`,
  ].join("\n");
  const loaded = parseConfig(yaml, join(tmpdir(), "cutover-bench-router.yaml"));
  // Any free port, as the one-process router above (cutover.yaml itself asks for a fixed one).
  const any = { host: "127.0.0.1", port: 0 };
  return {
    ...loaded,
    config: { ...loaded.config, router: { ...loaded.config.router, listen: any, preview: any } },
  };
}

if (values.admin === "main-loop" || workers > 1) {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const [command, colour] = line.trim().split(/\s+/);
    if (command !== "switch" || !isColour(colour)) {
      process.stdout.write(`${JSON.stringify({ error: `unknown command: ${line}` })}\n`);
      return;
    }
    void Promise.resolve(router.switchTo(colour)).then(() => {
      const hrtime = process.hrtime.bigint().toString();
      process.stdout.write(`${JSON.stringify({ switched: colour, hrtime })}\n`);
    });
  });
  lines.on("close", exit);
} else {
  const data: RouterAdminData = { active: activeColour.buffer };
  const admin = new Worker(new URL("./router-admin-worker.js", import.meta.url), { workerData: data });
  admin.on("message", (message: { closed?: boolean }) => {
    if (message.closed === true) exit();
  });
  admin.on("error", (error) => {
    process.stderr.write(`admin worker failed: ${error.message}\n`);
    exit();
  });
}
