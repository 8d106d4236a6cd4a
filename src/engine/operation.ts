import type { DeployRecord } from "./lifecycle.js";

/** One deploy or rollback while this process runs it. */
export interface Operation {
  readonly record: DeployRecord;
  readonly controller: AbortController;
  readonly done: Promise<DeployRecord>;
  /** Another process took this deploy over: this one stops without touching traffic, colours or the record. */
  lost?: boolean;
  /** Set while the deploy is paused: ends the pause (`cutover promote`, from `by` when another process asked). */
  promote?: ((by?: string) => void) | undefined;
}

/** An operation on `record` whose run begins only once `start` is called (the lock taken, the record told). */
export function pendingOperation(
  record: DeployRecord,
  run: (op: Operation) => Promise<DeployRecord>,
): { readonly op: Operation; readonly start: () => void } {
  let start!: () => void;
  const op: Operation = {
    record,
    controller: new AbortController(),
    done: new Promise<void>((resolve) => {
      start = resolve;
    }).then(() => run(op)),
  };
  return { op, start };
}

/** What a step did, in one line; or why it had nothing to do (recorded as skipped). */
export type StepOutcome = string | { readonly skipped: string };

export const skip = (why: string): StepOutcome => ({ skipped: why });

/** Settles with `work`, or rejects as soon as `signal` aborts, whichever comes first. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
