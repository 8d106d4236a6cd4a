import { formatDuration } from "../../duration.js";

export interface WaitUntilOptions {
  /** True when the wait is over. */
  readonly done: () => boolean;
  /** Why `done` can no longer come true, if it cannot: the wait then fails at once. */
  readonly hopeless?: () => string | undefined;
  /** Registers a callback for every change that may make `done` true; returns an unsubscribe function. */
  readonly subscribe: (onChange: () => void) => () => void;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** The error to reject with; `reason` is "after <duration>" or "because the wait was aborted". */
  readonly failure: (reason: string) => Error;
}

/** Resolves as soon as `done()` holds; rejects at the timeout or when `signal` aborts. */
export function waitUntil(options: WaitUntilOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      unsubscribe();
      options.signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const check = (): void => {
      const hopeless = options.hopeless?.();
      if (options.done()) finish();
      else if (hopeless !== undefined) finish(options.failure(hopeless));
    };
    const onAbort = (): void => finish(options.failure("because the wait was aborted"));
    const timer = setTimeout(
      () => finish(options.failure(`after ${formatDuration(options.timeoutMs)}`)),
      options.timeoutMs,
    );
    const unsubscribe = options.subscribe(check);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    else check();
  });
}
