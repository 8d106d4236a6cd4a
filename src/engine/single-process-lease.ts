import type { DeployRecord } from "./lifecycle.js";
import type { DeployLease } from "./ports/state-store.js";

/**
 * The lease where one process is the only one that acts on the service: the daemon on one machine (its
 * pid file in .cutover/ keeps a second one from starting). The engine's own one-operation-at-a-time check
 * is the whole lock, so there is nothing to claim, renew or lose, and nobody else to take a deploy over from.
 */
export class SingleProcessLease implements DeployLease {
  async claim(_record: DeployRecord, _recorded: string | null): Promise<void> {}

  /** A deploy this process's state holds is its own (a restarted daemon closes what it found first). */
  async takeOver(_record: DeployRecord): Promise<string | null> {
    return null;
  }

  letGo(): void {}

  onLost(_listener: (reason: string) => void): void {}

  holder(): string | null {
    return null;
  }
}
