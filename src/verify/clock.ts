import { performance } from "node:perf_hooks";

/**
 * Milliseconds since the epoch with sub-millisecond precision, from the monotonic clock: the one time
 * base the load generator and the drill share, so that request times and switch times compare.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
