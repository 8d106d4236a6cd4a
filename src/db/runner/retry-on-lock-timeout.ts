import type { Logger } from "pino";
import { sleep } from "./sleep.js";
import { sqlStateOf } from "./sql-client.js";

/** SQLSTATE lock_not_available: lock_timeout ran out (or NOWAIT found the lock taken). */
export const LOCK_NOT_AVAILABLE = "55P03";
const MAX_DELAY_MS = 30_000;

export interface RetryOptions {
  readonly retries: number;
  /** Delay before the first retry; doubled for each next one (at most 30 s), with ±25% jitter. */
  readonly delayMs: number;
  readonly logger: Logger;
  /** Passed on from the runner's caller; undefined (or absent): nothing aborts it. */
  readonly signal?: AbortSignal | undefined;
  /** Runs before each retry (e.g. to drop an index a failed CREATE INDEX CONCURRENTLY left invalid). */
  readonly beforeRetry?: () => Promise<void>;
}

/** What happened across the attempts of one action. */
export interface RetryOutcome<T> {
  readonly value: T;
  readonly retries: number;
}

/**
 * Runs `attempt` again when it gave up on lock_timeout: the migration stepped out of the lock queue so the
 * service's queries could pass, and tries again after a pause. Other errors go straight through.
 */
export async function retryOnLockTimeout<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<RetryOutcome<T>> {
  for (let retry = 0; ; retry++) {
    try {
      return { value: await attempt(), retries: retry };
    } catch (error) {
      if (sqlStateOf(error) !== LOCK_NOT_AVAILABLE || retry >= options.retries) throw error;
      const delayMs = backoff(options.delayMs, retry);
      options.logger.warn(
        { attempt: retry + 1, of: options.retries + 1, delayMs, sqlState: LOCK_NOT_AVAILABLE },
        "gave up waiting for a lock (lock_timeout); retrying",
      );
      await sleep(delayMs, options.signal);
      await options.beforeRetry?.();
    }
  }
}

function backoff(firstMs: number, retry: number): number {
  const base = Math.min(MAX_DELAY_MS, firstMs * 2 ** retry);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
