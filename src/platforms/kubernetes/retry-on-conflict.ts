import { setTimeout as sleep } from "node:timers/promises";
import { ConflictRetriesExhaustedError } from "./errors.js";
import { isConflict } from "./kube-clients.js";

/**
 * Runs `attempt` (which must read the object afresh each time) again after a 409 Conflict, with a short
 * randomised pause; never writes without the resourceVersion it read. Like client-go's RetryOnConflict.
 */
export async function retryOnConflict<T>(
  what: string,
  attempt: (round: number) => Promise<T>,
  attempts = 6,
): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await attempt(round);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (round >= attempts) throw new ConflictRetriesExhaustedError(what, attempts);
      await sleep(10 * round + Math.random() * 20);
    }
  }
}
