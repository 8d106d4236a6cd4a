import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "../../src/daemon/state-files.js";

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting until ${what}`);
    await sleep(20);
  }
}

/**
 * True while a process with this pid runs. A zombie does not count: where pid 1 does not reap orphans
 * (some containers), a killed process whose parent died first stays a zombie.
 */
export const isAlive = isProcessAlive;
