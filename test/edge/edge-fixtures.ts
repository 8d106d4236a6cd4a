/**
 * What the edge's tests share: an edge started in this process from a cutover-edge.yaml written to a temp
 * folder (on free loopback ports), and requests that name the host they are for.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEdgeConfig } from "../../src/edge/load-edge-config.js";
import { type RunningEdge, startEdge } from "../../src/edge/start-edge.js";
import { silentLogger } from "../../src/log.js";
import { freePort } from "../helpers/project.js";

export interface TestEdge extends RunningEdge {
  /** The plain listener's port. */
  readonly port: number;
  readonly dir: string;
}

/**
 * An edge listening for plain HTTP on a free loopback port; `body` is the rest of its file (services:,
 * tls:, metrics:, ...), written after the listen: line. `files` (name -> text) are written beside it first;
 * `plainPort`: the plain listener's port when the test must know it first (a free one by default).
 */
export async function startTestEdge(
  body: string,
  files: Record<string, string> = {},
  plainPort?: number,
): Promise<TestEdge> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-edge-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const port = plainPort ?? (await freePort());
  const file = join(dir, "cutover-edge.yaml");
  writeFileSync(file, `listen: 127.0.0.1:${port}\n${body}`);
  const edge = await startEdge(loadEdgeConfig(file), silentLogger());
  return { ...edge, close: () => edge.close(), port, dir };
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request to 127.0.0.1:`port` for `host` (the Host header), on a connection of its own. */
export function send(
  port: number,
  host: string,
  path = "/",
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: { host, ...options.headers },
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    req.end(options.body);
  });
}
