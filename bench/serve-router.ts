/**
 * The built-in router as the bench runs it: a process of its own in front of the blue and green demo
 * apps, blue active. It prints {"port": N} once listening, and takes admin commands on stdin, one a line:
 *
 *   switch green     ->  {"switched": "green", "hrtime": "<process.hrtime.bigint() when the pointer moved>"}
 *
 * It closes and exits when stdin ends, so it cannot outlive the bench.
 *
 *   node dist/bench/serve-router.js --blue 41001 --green 41002
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { isColour } from "../src/colour.js";
import { Router } from "../src/router/router.js";

const { values } = parseArgs({ options: { blue: { type: "string" }, green: { type: "string" } } });
const router = new Router({
  listen: { host: "127.0.0.1", port: 0 },
  preview: null,
  sticky: false,
  initialActive: "blue",
});
router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port: Number(values.blue) }]);
router.setEndpoints("green", [{ id: "green", host: "127.0.0.1", port: Number(values.green) }]);
await router.start();
process.stdout.write(`${JSON.stringify({ port: router.address().port })}\n`);

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
lines.on("close", () => void router.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void router.close().then(() => process.exit(0)));
