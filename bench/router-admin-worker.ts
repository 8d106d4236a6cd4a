/**
 * The admin side of bench/serve-router.ts, on a thread of its own: it reads the admin commands from stdin
 * with blocking reads, so a command is taken the moment it arrives however busy the proxy's event loop is,
 * and switches by storing into the router's shared active-colour pointer. It answers on stdout directly
 * (fs.writeSync on fd 1, not through the main thread), and tells the main thread when stdin ends.
 */
import { readSync, writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { isColour } from "../src/colour.js";
import { SharedActiveColour } from "../src/router/shared-active-colour.js";

export interface RouterAdminData {
  readonly active: SharedArrayBuffer;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The next bytes of stdin; null at its end. */
function readStdin(buffer: Buffer): Buffer | null {
  for (;;) {
    try {
      const n = readSync(0, buffer, 0, buffer.length, null);
      return n === 0 ? null : buffer.subarray(0, n);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function answer(line: string, pointer: SharedActiveColour): string {
  const [command, colour] = line.trim().split(/\s+/);
  if (command !== "switch" || !isColour(colour)) return JSON.stringify({ error: `unknown command: ${line}` });
  const from = pointer.switchTo(colour);
  const hrtime = process.hrtime.bigint().toString();
  parentPort?.postMessage({ switched: colour, from });
  return JSON.stringify({ switched: colour, hrtime });
}

if (parentPort !== null) {
  const pointer = new SharedActiveColour((workerData as RouterAdminData).active);
  const buffer = Buffer.alloc(4096);
  let pending = "";
  for (let chunk = readStdin(buffer); chunk !== null; chunk = readStdin(buffer)) {
    const lines = (pending + chunk.toString("utf8")).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") writeSync(1, `${answer(line, pointer)}\n`);
  }
  parentPort.postMessage({ closed: true });
}
