/**
 * The built-in router as the bench runs it: a process of its own in front of the blue and green demo
 * apps, blue active. It prints {"port": N} once listening, and takes admin commands on stdin, one a line:
 *
 *   switch green     ->  {"switched": "green", "hrtime": "<process.hrtime.bigint() when the pointer moved>"}
 *
 * The commands are read by an admin worker thread (router-admin-worker.ts) that moves the router's shared
 * active-colour pointer itself, so a switch does not wait behind the proxy's I/O on the main event loop.
 * With --admin main-loop they are read on the main thread instead (the router's switchTo()), for comparison.
 * It closes and exits when stdin ends, so it cannot outlive the bench.
 *
 *   node dist/bench/serve-router.js --blue 41001 --green 41002 [--admin worker|main-loop]
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { pino } from "pino";
import { isColour } from "../src/colour.js";
import { Router } from "../src/router/router.js";
import { SharedActiveColour } from "../src/router/shared-active-colour.js";
import { TlsCertificates } from "../src/router/tls-certificates.js";
import { WARM_CONNECTIONS } from "../src/router/warm-sockets.js";
import type { RouterAdminData } from "./router-admin-worker.js";

const { values } = parseArgs({
  options: {
    blue: { type: "string" },
    green: { type: "string" },
    admin: { type: "string", default: "worker" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
  },
});
const certificate = values["tls-cert"];
const key = values["tls-key"];
const activeColour = new SharedActiveColour("blue");
const router = new Router({
  listen: { host: "127.0.0.1", port: 0 },
  preview: null,
  sticky: false,
  initialActive: "blue",
  activeColour,
  // As a user who wants the fastest switch sets router.warmConnections: the idle colour's connections are open.
  warmConnections: WARM_CONNECTIONS,
  tls:
    certificate && key ? new TlsCertificates([{ cert: certificate, key }], pino({ enabled: false })) : null,
});
router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port: Number(values.blue) }]);
router.setEndpoints("green", [{ id: "green", host: "127.0.0.1", port: Number(values.green) }]);
await router.start();
process.stdout.write(`${JSON.stringify({ port: router.address().port })}\n`);

const exit = (): void => void router.close().then(() => process.exit(0));
process.on("SIGTERM", exit);

if (values.admin === "main-loop") {
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
