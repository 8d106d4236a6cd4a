/** One replica of the built demo service as a child process on a free loopback port, ready when returned. */

import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { Colour } from "../../src/colour.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import { DEMO_APP, freePort } from "./project.js";

export interface DemoApp {
  readonly colour: Colour;
  readonly port: number;
  readonly endpoint: Endpoint;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the demo app (dist/examples/demo-app) with ENVIRONMENT=colour and `env` (ERROR_RATIO, ADDED_LATENCY_MS, ...). */
export async function startDemoApp(
  colour: Colour,
  version: string,
  env: Record<string, string> = {},
): Promise<DemoApp> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [DEMO_APP], {
    env: {
      ...process.env,
      PORT: String(port),
      APP_VERSION: version,
      ENVIRONMENT: colour,
      REPLICA: "0",
      ...env,
    },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null)
      throw new Error(`the demo app exited with ${child.exitCode}; run \`npx tsc -p tsconfig.json\` first`);
    if (Date.now() > deadline) throw new Error("the demo app did not answer /health within 10 s");
    await sleep(50);
  }
  return {
    colour,
    port,
    url,
    endpoint: { id: `${colour}-0`, host: "127.0.0.1", port },
    stop: () =>
      new Promise((resolve) => {
        // Killed by a signal, a child has a signalCode and no exitCode: either means it is gone.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
