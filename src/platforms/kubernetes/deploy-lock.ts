import { hostname } from "node:os";
import { formatDuration } from "../../duration.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import { DeployInProgressError } from "../../errors.js";

/**
 * The lock on a deploy in progress, as the `cutover.dev/lock` annotation holds it: whose it is (a random
 * token only the holder knows), who that is for a person reading it, and when the holder last said it is
 * still alive. A holder renews it while its deploy runs; one not renewed within the lease is abandoned
 * (the runner was killed, its node lost), and `cutover abort` may then close its deploy. The age is the
 * reader's clock minus the holder's: runners' clocks must agree to well within the lease.
 */
export interface DeployLock {
  readonly token: string;
  /** "host pid 123 run 456". */
  readonly holder: string;
  /** ISO time of the last renewal; null for a lock written by a cutover that did not renew (never abandoned). */
  readonly renewedAt: string | null;
}

export function newLock(token: string, now = new Date()): DeployLock {
  return { token, holder: runnerName(), renewedAt: now.toISOString() };
}

export function formatLock(lock: DeployLock | null): string | null {
  return lock ? JSON.stringify(lock) : null;
}

/** The annotation's lock; a bare token (written before locks were renewed) is a lock that never expires. */
export function parseLock(text: string | null | undefined): DeployLock | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<DeployLock> | null;
    if (value && typeof value.token === "string") {
      return {
        token: value.token,
        holder: typeof value.holder === "string" ? value.holder : "another cutover",
        renewedAt: typeof value.renewedAt === "string" ? value.renewedAt : null,
      };
    }
  } catch {
    // a bare token
  }
  return { token: text, holder: "another cutover", renewedAt: null };
}

/** Milliseconds since the lock was last renewed; null when it is never renewed. */
export function lockAge(lock: DeployLock, now = Date.now()): number | null {
  const at = lock.renewedAt === null ? Number.NaN : Date.parse(lock.renewedAt);
  return Number.isNaN(at) ? null : Math.max(0, now - at);
}

export function isAbandoned(lock: DeployLock | null, leaseMs: number, now = Date.now()): boolean {
  if (!lock) return true; // an unfinished deploy nobody holds: its process ended without clearing it
  const age = lockAge(lock, now);
  return age !== null && age > leaseMs;
}

/**
 * Another runner's unfinished deploy is in the way. While its lock is renewed: wait, or stop that runner.
 * Once it is abandoned: `cutover abort` closes it.
 */
export class DeployLockedError extends DeployInProgressError {
  constructor(record: DeployRecord, lock: DeployLock | null, leaseMs: number, service: string) {
    const age = lock ? lockAge(lock) : null;
    const lease = formatDuration(leaseMs);
    let next: string;
    if (record.phase === "Paused" && !(record.resumesAt && lock && age !== null && age <= leaseMs)) {
      next = "it waits for `cutover promote` (or `cutover abort`), which any run may give";
    } else if (record.phase === "Paused" && lock) {
      next = `it is paused in ${lock.holder} (lock renewed ${formatDuration(age ?? 0)} ago), which switches by itself at ${record.resumesAt}; \`cutover promote\` asks it to switch now, \`cutover abort\` to stop`;
    } else if (!lock) {
      next = "no runner holds its lock: run `cutover abort` to close it, then try again";
    } else if (age === null) {
      next = `it is held by ${lock.holder} with a lock that is never renewed (written by an older cutover); if that runner is gone, remove the lock (\`kubectl annotate service ${service} cutover.dev/lock-\`) and run \`cutover abort\``;
    } else if (age > leaseMs) {
      next = `it was abandoned by ${abandonedBy(lock)} (lease ${lease}): run \`cutover abort\` to close it (traffic goes back to ${record.from.colour} if it had switched), then try again`;
    } else {
      next = `it runs in ${lock.holder} (lock renewed ${formatDuration(age)} ago): wait for it, or run \`cutover abort\`, which asks that run to abort it (or, if that runner is gone, closes the deploy once its lock is ${lease} old)`;
    }
    super(record.id, record.version, record.phase, next);
    this.name = "DeployLockedError";
  }
}

/** Who left a deploy whose lock is `lock` (abandoned: not renewed within the lease, or none at all). */
export function abandonedBy(lock: DeployLock | null): string {
  if (!lock) return "a cutover that left no lock";
  return `${lock.holder}, whose lock was last renewed ${formatDuration(lockAge(lock) ?? 0)} ago`;
}

/** Who runs this process, for a person reading the lock or the state: host, pid and the CI job. */
export function runnerName(): string {
  const runner = process.env.GITHUB_RUN_ID ?? process.env.CI_JOB_ID ?? process.env.BUILD_ID;
  return `${hostname()} pid ${process.pid}${runner ? ` run ${runner}` : ""}`;
}
