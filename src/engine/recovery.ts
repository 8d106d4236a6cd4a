import type { Logger } from "pino";
import { hasCode } from "../errors.js";
import { closeInterrupted, type DeployRecord, isFinal, unrecordedEnding } from "./lifecycle.js";
import type { ServiceState, StateStorage, StateStore } from "./ports/state-store.js";

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
async function recordEnding(
  history: DeployRecord[],
  storage: StateStorage,
  logger: Logger,
): Promise<string | null> {
  const current = (await storage.loadState())?.current ?? null;
  const ending = unrecordedEnding(current, history);
  if (ending) {
    await storage.appendHistory(ending);
    history.push(structuredClone(ending));
    logger.warn(
      { deploy: ending.id, phase: ending.phase },
      "recorded the ending of a deploy its run did not",
    );
  }
  // The ended deploy the state holds, now in the history, which the claim may replace.
  return current && isFinal(current.phase) ? current.id : null;
}

/**
 * Claims the lease for `record` once any ending the state holds is in the history. Another run may end
 * between the two: the lease then refuses (ENDING_UNRECORDED) and this goes round again.
 */
export async function claimRecorded(
  record: DeployRecord,
  store: StateStore,
  history: DeployRecord[],
  logger: Logger,
): Promise<void> {
  for (let round = 1; ; round += 1) {
    const recorded = await recordEnding(history, store.storage, logger);
    try {
      return await store.lease.claim(record, recorded);
    } catch (error) {
      if (!hasCode(error, "ENDING_UNRECORDED") || round === 3) throw error;
    }
  }
}
