import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Colour } from "../src/colour.js";
import { freePort } from "../src/process/free-port.js";
import type { BenchProcesses } from "./bench-processes.js";

export interface DemoUpstream {
  readonly colour: Colour;
  readonly port: number;
  readonly pid: number;
}

/**
 * The demo app twice, as blue and as green (ENVIRONMENT set, so each answer says which colour served it
 * in its x-app-environment header), each one node process on a free loopback port.
 */
export async function startDemoUpstreams(
  processes: BenchProcesses,
  root: string,
  logDir: string,
): Promise<Record<Colour, DemoUpstream>> {
  const server = join(root, "dist", "examples", "demo-app", "src", "server.js");
  if (!existsSync(server)) throw new Error(`${server} is missing; run \`npm run build\` first`);
  const start = async (colour: Colour, taken: Set<number>): Promise<DemoUpstream> => {
    const port = await freePort("127.0.0.1", taken);
    const started = processes.spawn(`demo ${colour}`, process.execPath, [server], {
      env: { ...process.env, PORT: String(port), APP_VERSION: `bench-${colour}`, ENVIRONMENT: colour },
      logFile: join(logDir, `demo-${colour}.log`),
      announces: true,
    });
    await started.announced;
    return { colour, port, pid: started.pid };
  };
  const blue = await start("blue", new Set());
  const green = await start("green", new Set([blue.port]));
  return { blue, green };
}
