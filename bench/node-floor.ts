/**
 * The least a Node reverse proxy does, as a bench target: node:http in, undici out (the same client as
 * cutover's router), the answer streamed back; no metrics, no header rewriting, no in-flight tracking, no
 * retry, no switch. What it reaches on a machine is the ceiling of any router built on those two, cutover's
 * included. It prints {"port": N} once listening and exits when stdin ends.
 *
 *   node dist/bench/node-floor.js --upstream 41001
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import type { BenchProcesses } from "./bench-processes.js";
import type { BenchTarget } from "./bench-target.js";
import type { DemoUpstream } from "./demo-upstreams.js";

/** Starts this file as a process in front of `upstream` (the blue demo app). */
export async function startNodeFloorTarget(
  processes: BenchProcesses,
  upstream: DemoUpstream,
  logFile: string,
): Promise<BenchTarget> {
  const script = new URL(import.meta.url).pathname;
  const child = processes.spawn(
    "node floor proxy",
    process.execPath,
    [script, "--upstream", String(upstream.port)],
    {
      logFile,
      stdin: true,
      announces: true,
    },
  );
  const { port } = (await child.announced) as { port: number };
  return {
    name: "node-floor",
    label: `the least a Node proxy does: node:http in, undici out, nothing else (bench/node-floor.ts, node ${process.version})`,
    url: `http://127.0.0.1:${port}/`,
    pids: () => [child.pid],
    switchTo: null,
    switchMethod: "",
  };
}

function serve(upstreamPort: number): void {
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`);
  const server = createServer((req, res) => {
    const body = req.method === "GET" || req.method === "HEAD" ? null : req;
    pool.stream(
      {
        path: req.url ?? "/",
        method: req.method as "GET",
        headers: req.headers as IncomingHttpHeaders,
        body,
      },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, headers as IncomingHttpHeaders);
        return res;
      },
      (error) => {
        if (error === null) return;
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    );
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const { values } = parseArgs({ options: { upstream: { type: "string" } } });
  serve(Number(values.upstream));
}
