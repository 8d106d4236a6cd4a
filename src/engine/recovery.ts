import type { Logger } from "pino";
import { closeInterrupted, type DeployRecord, unrecordedEnding } from "./lifecycle.js";
import type { ServiceState, StateStorage } from "./ports/state-store.js";

/*
 * Crash recovery: what the engine does with a deploy a dead process left in the state. The rules are
 * lifecycle.ts's (`closeInterrupted`, `unrecordedEnding`); this applies them to the state and the history.
 */

/**
 * When the daemon starts (`cutover up`): the deploy the state still holds was running when its process
 * died. It is closed in the history, once (one already there finished just before the crash), and the
 * state drops it.
 */
export async function closeLeftover(
  state: ServiceState,
  history: DeployRecord[],
  storage: StateStorage,
  logger: Logger,
): Promise<void> {
  const left = state.current;
  if (!left) return;
  if (!history.some((r) => r.id === left.id)) {
    const active = state.active;
    closeInterrupted(left, `${active} (${state.colours[active].version})`);
    await storage.appendHistory(left);
    history.push(left);
    logger.warn({ deploy: left.id, phase: left.phase }, "closed a deploy interrupted by a restart");
  }
  state.current = null;
}

/**
 * Before a new deploy is claimed (on a store several processes share, where no daemon starts up): an
 * ending a run wrote to the state but not to the history (it died between the two writes) goes to the
 * history before the claim replaces it. The state is read again for this: another run may have written
 * that ending since this process read it.
 */
export async function recordEnding(
  history: DeployRecord[],
  storage: StateStorage,
  logger: Logger,
): Promise<void> {
  const ending = unrecordedEnding((await storage.loadState())?.current ?? null, history);
  if (!ending) return;
  await storage.appendHistory(ending);
  history.push(structuredClone(ending));
  logger.warn({ deploy: ending.id, phase: ending.phase }, "recorded the ending of a deploy its run did not");
}
