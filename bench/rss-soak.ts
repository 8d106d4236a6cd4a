import type { BenchTarget } from "./bench-target.js";
import { rssBytes } from "./proc-usage.js";
import { runWrk } from "./wrk-runner.js";

/** Growth of the resident memory allowed over a million requests (issue 15): 10 %. */
export const RSS_GROWTH_LIMIT = 0.1;

export interface RssSoakOptions {
  readonly wrk: string;
  readonly connections: number;
  readonly threads: number;
  /** Requests to send after the warm-up. */
  readonly requests: number;
  /** The soak stops here even short of `requests` (a slow machine), so the bench stays bounded. */
  readonly maxSeconds: number;
}

/** What the memory of one target did over a long run of requests. */
export interface RssSoak {
  readonly target: string;
  /** Requests sent after the warm-up (below the goal when maxSeconds ran out first). */
  readonly requests: number;
  readonly seconds: number;
  readonly errors: number;
  /** VmRSS of the target's processes once the warm-up's load had stopped. */
  readonly afterWarmupMiB: number;
  /** VmRSS once the soak's load had stopped. */
  readonly afterMiB: number;
  /** (after - afterWarmup) / afterWarmup. */
  readonly growth: number;
}

const CHUNK_SECONDS = 10;
/**
 * Long enough for V8's heap to reach the size this load keeps it at: after 3 s, two runs on the same machine
 * measured 140 and 124 MiB, and the second then "grew" 25 % to the 155 MiB the first had at its end. What a
 * leak would show is growth from there on.
 */
export const WARMUP_SECONDS = 10;

/**
 * Sends about `requests` requests through `target` in wrk runs of 10 s after a warm-up, and compares its
 * resident memory after the warm-up with its memory after them (both read when the load has just stopped).
 */
export async function measureRssSoak(target: BenchTarget, o: RssSoakOptions): Promise<RssSoak> {
  const rss = () => target.pids().reduce((sum, pid) => sum + rssBytes(pid), 0) / 1024 ** 2;
  const load = { wrk: o.wrk, url: target.url, connections: o.connections, threads: o.threads };
  await runWrk({ ...load, seconds: WARMUP_SECONDS });
  const afterWarmupMiB = rss();
  let requests = 0;
  let seconds = 0;
  let errors = 0;
  while (requests < o.requests && seconds < o.maxSeconds) {
    // The last run only as long as the requests still owed need at the rate so far (at least 2 s).
    const rate = seconds > 0 ? requests / seconds : 0;
    const owed = rate > 0 ? Math.ceil((o.requests - requests) / rate) + 1 : CHUNK_SECONDS;
    const run = await runWrk({ ...load, seconds: Math.max(2, Math.min(CHUNK_SECONDS, owed)) });
    requests += run.requests;
    seconds += run.seconds;
    errors += run.errors;
  }
  const afterMiB = rss();
  return {
    target: target.name,
    requests,
    seconds,
    errors,
    afterWarmupMiB,
    afterMiB,
    growth: (afterMiB - afterWarmupMiB) / afterWarmupMiB,
  };
}
