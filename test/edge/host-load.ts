/**
 * Open-loop load on the edge for one host at a fixed rate, bounded in time, reading every answer's body: the
 * named app's JSON says which service and version answered, so a request answered by the wrong service is
 * seen, not only a failed one.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";

export interface HostLoadResult {
  readonly sent: number;
  readonly statuses: ReadonlyMap<number, number>;
  /** Answers by the service their body names ("?" for a body that is not the named app's JSON). */
  readonly services: ReadonlyMap<string, number>;
  /** Answers by version, in the order first seen. */
  readonly versions: ReadonlyMap<string, number>;
  /** The version of the last answer received. */
  readonly lastVersion: string | undefined;
  /** Requests that got no answer (connection errors), with the error. */
  readonly failures: readonly string[];
}

export interface HostLoad {
  /** Answers and failures so far. */
  done(): number;
  stop(): Promise<HostLoadResult>;
}

export function hostLoad(
  url: string,
  host: string,
  options: { ratePerSecond: number; maxDurationMs: number },
): HostLoad {
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  const statuses = new Map<number, number>();
  const services = new Map<string, number>();
  const versions = new Map<string, number>();
  const failures: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
  let lastVersion: string | undefined;
  let answered = 0;
  let sent = 0;
  let running = true;
  const started = performance.now();
  const gap = 1000 / options.ratePerSecond;
  const one = async (): Promise<void> => {
    try {
      const response = await pool.request({ path: "/", method: "GET", headers: { host } });
      const text = await response.body.text();
      bump(statuses, response.statusCode);
      const body = parse(text);
      bump(services, body?.service ?? "?");
      if (body?.version !== undefined) {
        bump(versions, body.version);
        lastVersion = body.version;
      }
    } catch (error) {
      failures.push(String(error));
    } finally {
      answered++;
    }
  };
  const loop = (async () => {
    while (running && performance.now() - started < options.maxDurationMs) {
      const wait = started + sent * gap - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      sent++;
      const request = one().finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  })();
  return {
    done: () => answered,
    async stop() {
      running = false;
      await loop;
      await Promise.all([...inFlight]);
      await pool.close();
      return { sent, statuses, services, versions, lastVersion, failures };
    },
  };
}

function parse(text: string): { service?: string; version?: string } | null {
  try {
    return JSON.parse(text) as { service?: string; version?: string };
  } catch {
    return null;
  }
}
