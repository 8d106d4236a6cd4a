import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import {
  askRule,
  type DeployRecord,
  type HolderAction,
  isUnfinished,
  waitsForPerson,
} from "../../engine/lifecycle.js";
import type { HolderChannel } from "../../engine/ports/state-store.js";
import { CutoverError } from "../../errors.js";
import { DeployLockedError, isAbandoned, lockAge, parseLock, runnerName } from "./deploy-lock.js";
import type { HistoryConfigMap } from "./history-config-map.js";
import { ANNOTATIONS } from "./manifest-names.js";
import {
  type HolderRequest,
  parseRequest,
  parseState,
  type ServiceAnnotations,
} from "./service-annotations.js";

/** How often a run that asked looks again for the answer. */
const ASK_POLL_MS = 250;
/** How long a deploy that left the state may take to show up in the history. */
const ENDING_WAIT_MS = 10_000;

export interface AnnotationHolderChannelOptions {
  readonly annotations: ServiceAnnotations;
  readonly history: HistoryConfigMap;
  /** A lock not renewed for this long is abandoned. */
  readonly leaseMs: number;
  readonly logger: Logger;
}

/**
 * Requests between runs through the `cutover.dev/request` annotation of the active Service: a run asks the
 * live holder of a deploy to promote or abort it by writing the request; the holder takes it with the next
 * write that renews its lock (the lease's renewal, or a save of the state) and passes it on (`deliver`).
 */
export class AnnotationHolderChannel implements HolderChannel {
  readonly #o: AnnotationHolderChannelOptions;
  readonly #listeners = new Set<(action: HolderAction, by: string) => void>();

  constructor(options: AnnotationHolderChannelOptions) {
    this.#o = options;
  }

  /** Calls `listener` when another run asks this process's deploy to promote or abort. */
  onRequest(listener: (action: HolderAction, by: string) => void): void {
    this.#listeners.add(listener);
  }

  /** Passes on what another run asked, once the write that took the request is in. */
  deliver(asked: HolderRequest | null): void {
    if (!asked) return;
    this.#o.logger.info({ action: asked.action, by: asked.by }, "another run asked this deploy");
    for (const listener of this.#listeners) listener(asked.action, asked.by);
  }

  /**
   * Asks the run that holds `record` (alive: its lock is renewed) to `action` it, and waits for the answer:
   * the holder takes the request when it next renews its lock (every third of the lease), then acts on it.
   * Resolves with the record once the deploy has ended (or, after a promote, paused again). A holder that
   * renews without taking the request cannot answer (it is refused at once); one that dies meanwhile is
   * HOLDER_GONE, for the caller to take the deploy over.
   */
  async ask(record: DeployRecord, action: HolderAction): Promise<DeployRecord> {
    const mine: HolderRequest = { action, deploy: record.id, by: runnerName(), at: new Date().toISOString() };
    const renewedAtAsking = await this.#request(record, mine);
    let taken = false;
    let goneAt: number | null = null;
    while (true) {
      await sleep(ASK_POLL_MS);
      const service = await this.#o.annotations.read();
      const annotations = service?.metadata?.annotations ?? {};
      const current = service ? parseState(service)?.current : null;
      if (!isUnfinished(current) || current.id !== record.id) {
        const ended = (await this.#o.history.load()).find((r) => r.id === record.id);
        if (ended) return ended;
        // Its ending goes to the history just before the state drops it; give it a moment, not forever.
        goneAt ??= Date.now();
        if (Date.now() - goneAt > ENDING_WAIT_MS)
          throw new CutoverError(
            "NO_ANSWER",
            `deploy ${record.id} is no longer in progress, and its ending is not in the history; see \`cutover history\``,
          );
        continue;
      }
      const request = parseRequest(annotations[ANNOTATIONS.request]);
      const lock = parseLock(annotations[ANNOTATIONS.lock]);
      const pending = request?.at === mine.at && request.by === mine.by;
      if (!pending) taken = true;
      if (taken && action === "promote" && waitsForPerson(current)) return current;
      if (isAbandoned(lock, this.#o.leaseMs))
        throw new CutoverError(
          "HOLDER_GONE",
          `the run that held deploy ${record.id} stopped renewing its lock`,
        );
      if (pending && lock && lock.renewedAt !== renewedAtAsking)
        throw new CutoverError(
          "NOT_ASKABLE",
          `${lock.holder} renewed its lock but did not take the request (a cutover without requests?); stop that run, or wait for it`,
        );
    }
  }

  /** Writes `mine` beside the deploy (see `askRule`); returns when the holder's lock was renewed then. */
  async #request(record: DeployRecord, mine: HolderRequest): Promise<string | null> {
    const { action } = mine;
    let renewedAtAsking: string | null = null;
    await this.#o.annotations.write(
      `asking the holder of ${record.id} to ${action}`,
      (stored, lock, request) => {
        const current = stored?.current;
        const rule = askRule(current, record.id, action, request);
        if (rule === "nothing-to-do" || !stored || !current) {
          const now = current ? `deploy ${current.id} is ${current.phase}` : "no deploy is in progress";
          throw new CutoverError("NOT_PAUSED", `${now}; there is nothing to ${action}`);
        }
        // Only a holder that renews its lock reads requests (an older cutover does not): refuse as before.
        if (!lock || lockAge(lock) === null)
          throw new DeployLockedError(current, lock, this.#o.leaseMs, this.#o.annotations.name);
        // An abort replaces a promote not yet taken; a promote does not replace an abort.
        if (rule === "abort-pending")
          throw new CutoverError(
            "ASKED",
            `${request?.by} has already asked deploy ${record.id} to abort; see \`cutover status\` in a few seconds`,
          );
        renewedAtAsking = lock.renewedAt;
        return { state: stored, lock, request: mine };
      },
    );
    return renewedAtAsking;
  }
}
