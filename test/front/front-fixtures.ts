/**
 * What the global front's tests share: a front started in this process on free loopback ports with short
 * probe intervals, stand-ins for regions (plain HTTP servers whose health can be turned off, and which can
 * be killed), and open-loop load that tags each request with its sequence number.
 */
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import {
  type BuiltinFrontConfig,
  builtinFrontSchema,
  type RegionConfig,
} from "../../src/config/fleet-schema.js";
import { REGION_HEADER } from "../../src/front/front-response-headers.js";
import type { FrontRegionState } from "../../src/front/global-front.js";
import { type RunningFront, startGlobalFront } from "../../src/front/start-global-front.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../helpers/eventually.js";

export const LOAD_SEQ_HEADER = "x-load-seq";

/** A front's config with the schema's defaults, on port 0, probing every 100 ms (three failures: unhealthy). */
export function frontConfig(overrides: Partial<BuiltinFrontConfig> = {}): BuiltinFrontConfig {
  const parsed = builtinFrontSchema.parse({
    type: "builtin",
    probe: { interval: "100ms", timeout: "300ms", failureThreshold: 3, successThreshold: 1 },
  });
  return {
    ...parsed,
    listen: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    ...overrides,
  };
}

export function regionConfig(name: string, endpoint: string, more: Partial<RegionConfig> = {}): RegionConfig {
  return { name, endpoint, weight: 1, ...more };
}

export interface TestFront extends RunningFront {
  readonly url: string;
  readonly adminUrl: string;
  readonly stateDir: string;
  state(region: string): FrontRegionState;
  /** Waits until every region's probe has decided it healthy. */
  allHealthy(): Promise<void>;
}

export async function startTestFront(
  regions: readonly RegionConfig[],
  options: { config?: Partial<BuiltinFrontConfig>; stateDir?: string } = {},
): Promise<TestFront> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "cutover-front-"));
  const front = await startGlobalFront({
    config: frontConfig(options.config),
    regions,
    healthPath: "/health",
    stateDir,
    logger: silentLogger(),
  });
  const state = (region: string): FrontRegionState => {
    const found = front.states().find((s) => s.region === region);
    if (found === undefined) throw new Error(`no region ${region}`);
    return found;
  };
  return {
    ...front,
    close: () => front.close(),
    states: () => front.states(),
    url: `http://127.0.0.1:${front.listen.port}`,
    adminUrl: `http://127.0.0.1:${front.admin.port}`,
    stateDir,
    state,
    allHealthy: () =>
      eventually("every region is healthy", () => front.states().every((s) => s.healthy === true)),
  };
}

/**
 * A region: answers its name on any path (after delayMs; /held when released), /health with 200 (or 503 once
 * made unhealthy).
 */
export interface RegionStandIn {
  readonly name: string;
  readonly url: string;
  /** Requests answered, /health not counted. */
  readonly requests: number;
  /** The x-load-seq of each request it received. */
  readonly seqs: ReadonlySet<number>;
  /** Requests to /held waiting for releaseHeld(). */
  readonly holding: number;
  /** Answers the requests to /held. */
  releaseHeld(): void;
  setHealthy(healthy: boolean): void;
  /** Stops listening and cuts every open connection, as a region that died. */
  kill(): Promise<void>;
}

export async function startRegion(name: string, options: { delayMs?: number } = {}): Promise<RegionStandIn> {
  let healthy = true;
  let requests = 0;
  const held: Array<() => void> = [];
  const seqs = new Set<number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/health") {
      res.writeHead(healthy ? 200 : 503, { "content-type": "text/plain" });
      res.end(healthy ? "ok" : "failing");
      return;
    }
    requests++;
    const seq = req.headers[LOAD_SEQ_HEADER];
    if (typeof seq === "string") seqs.add(Number(seq));
    // A body is read to its end before the answer, as an application would.
    req.resume();
    req.once("end", () => {
      const answer = () => {
        res.writeHead(200, { "content-type": "text/plain", "x-region-name": name });
        res.end(name);
      };
      if (req.url === "/held") held.push(answer);
      else if (options.delayMs === undefined) answer();
      else setTimeout(answer, options.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    seqs,
    get holding() {
      return held.length;
    },
    releaseHeld() {
      for (const answer of held.splice(0)) answer();
    },
    setHealthy(value) {
      healthy = value;
    },
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One request of the load, as the client saw it. */
export interface LoadAnswer {
  readonly seq: number;
  /** performance.now() when it was sent. */
  readonly sentAt: number;
  /** performance.now() when its answer (or its failure) was complete. */
  readonly doneAt: number;
  readonly method: string;
  /** 0 when the request failed without an answer. */
  readonly status: number;
  /** x-cutover-region of the answer. */
  readonly region: string | null;
  readonly error: string | null;
}

export interface OpenLoopLoad {
  stop(): Promise<LoadAnswer[]>;
}

/**
 * Open-loop load: a request every 1/rate seconds whether or not the earlier ones were answered, each tagged
 * x-load-seq. `postEvery` n: every n-th request is a POST with a small body (not safe to send twice).
 */
export function openLoopLoad(
  url: string,
  options: { ratePerSecond: number; postEvery?: number },
): OpenLoopLoad {
  const pool = new Pool(url, { connections: 64 });
  const answers: LoadAnswer[] = [];
  const pending = new Set<Promise<void>>();
  const gap = 1000 / options.ratePerSecond;
  const started = performance.now();
  let running = true;
  let seq = 0;
  const one = async (n: number, sentAt: number): Promise<void> => {
    const post = options.postEvery !== undefined && n % options.postEvery === 0;
    const method = post ? "POST" : "GET";
    const done = (status: number, region: unknown, error: string | null) =>
      answers.push({
        seq: n,
        sentAt,
        doneAt: performance.now(),
        method,
        status,
        region: typeof region === "string" ? region : null,
        error,
      });
    try {
      const response = await pool.request({
        path: "/",
        method,
        headers: { [LOAD_SEQ_HEADER]: String(n), ...(post ? { "content-type": "text/plain" } : {}) },
        body: post ? `order ${n}` : null,
      });
      await response.body.dump();
      done(response.statusCode, response.headers[REGION_HEADER], null);
    } catch (error) {
      done(0, null, String(error));
    }
  };
  const loop = (async () => {
    while (running) {
      const wait = started + seq * gap - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      const request = one(seq, performance.now()).finally(() => pending.delete(request));
      pending.add(request);
      seq++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await Promise.all([...pending]);
      await pool.close();
      return answers.sort((a, b) => a.seq - b.seq);
    },
  };
}

/** Answers that are not a region's 200: what a user would have seen fail. */
export function failedAnswers(answers: readonly LoadAnswer[]): LoadAnswer[] {
  return answers.filter((answer) => answer.status !== 200);
}

/** The admin API with the front's token. */
export function adminCall(
  front: TestFront,
  method: string,
  path: string,
  token = front.token,
): Promise<Response> {
  return fetch(front.adminUrl + path, { method, headers: { authorization: `Bearer ${token}` } });
}
