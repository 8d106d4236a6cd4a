/** Open-loop HTTP load on loopback at a fixed rate, bounded in time, for analysis and mirror tests. */

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";

export interface LoadResult {
  readonly sent: number;
  readonly statuses: ReadonlyMap<number, number>;
  /** Latencies in milliseconds, in the order the answers arrived. */
  readonly latenciesMs: readonly number[];
  /** x-cutover-colour (else the demo service's x-app-environment) of each answer, counted. */
  readonly colours: ReadonlyMap<string, number>;
  readonly failures: readonly string[];
  /** Header names seen on any answer (lower case). */
  readonly headerNames: ReadonlySet<string>;
}

export interface SteadyLoad {
  stop(): Promise<LoadResult>;
  /** Requests answered or failed so far. */
  done(): number;
  /** Failures so far. */
  failed(): number;
}

export function steadyLoad(
  url: string,
  options: {
    ratePerSecond: number;
    path?: string;
    maxDurationMs?: number;
    connections?: number;
    /** A new connection for every request, as many clients would open (kube-proxy picks a pod per connection). */
    freshConnections?: boolean;
    /** For an https:// url: the CA that signed the server's certificate. */
    ca?: string;
  },
): SteadyLoad {
  const pool = new Pool(url, {
    connections: options.connections ?? 32,
    pipelining: 1,
    ...(options.ca ? { connect: { ca: options.ca } } : {}),
  });
  const statuses = new Map<number, number>();
  const colours = new Map<string, number>();
  const latencies: number[] = [];
  const failures: string[] = [];
  const headerNames = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const started = performance.now();
  const deadline = started + (options.maxDurationMs ?? 60_000);
  const gap = 1000 / options.ratePerSecond;
  let running = true;
  const one = async () => {
    const t0 = performance.now();
    try {
      const response = await pool.request({
        path: options.path ?? "/",
        method: "GET",
        reset: options.freshConnections === true,
      });
      await response.body.dump();
      latencies.push(performance.now() - t0);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const colour = String(
        response.headers["x-cutover-colour"] ?? response.headers["x-app-environment"] ?? "none",
      );
      colours.set(colour, (colours.get(colour) ?? 0) + 1);
      for (const name of Object.keys(response.headers)) headerNames.add(name.toLowerCase());
    } catch (error) {
      failures.push(String(error));
    }
  };
  const loop = (async () => {
    while (running && performance.now() < deadline) {
      const due = started + sent * gap;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      sent++;
      const request = one().finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  })();
  return {
    done: () => latencies.length + failures.length,
    failed: () => failures.length,
    async stop() {
      running = false;
      await loop;
      await Promise.all([...inFlight]);
      await pool.close();
      return { sent, statuses, latenciesMs: latencies, colours, failures, headerNames };
    },
  };
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
