import type { Logger } from "pino";
import { COLOURS, type Colour, isColour } from "../../colour.js";
import { type DeployRecord, isUnfinished } from "../../engine/lifecycle.js";
import type { ServiceState, StateStorage } from "../../engine/ports/state-store.js";
import { CutoverError } from "../../errors.js";
import type { AnnotationHolderChannel } from "./annotation-holder-channel.js";
import type { AnnotationLease } from "./annotation-lease.js";
import { newLock } from "./deploy-lock.js";
import type { HistoryConfigMap } from "./history-config-map.js";
import { callApi, isNotFound, type KubeClients } from "./kube-clients.js";
import { ANNOTATIONS, names } from "./manifest-names.js";
import { type HolderRequest, lockOf, parseState, type ServiceAnnotations } from "./service-annotations.js";

export interface AnnotationStorageOptions {
  readonly clients: KubeClients;
  readonly service: string;
  readonly annotations: ServiceAnnotations;
  readonly history: HistoryConfigMap;
  /** Every write of a deploy in progress goes under its lock, and renews it. */
  readonly lease: AnnotationLease;
  /** Takes what another run asked, which every write that renews the lock also takes in. */
  readonly channel: AnnotationHolderChannel;
  readonly logger: Logger;
}

/**
 * The engine's state as JSON in the `cutover.dev/state` annotation of the active Service (small: the colours
 * and the deploy in progress), and its history in a ConfigMap. A deploy in progress is written only under
 * the lock this process holds for it (the lease), and such a write renews that lock.
 */
export class AnnotationStorage implements StateStorage {
  readonly #o: AnnotationStorageOptions;

  constructor(options: AnnotationStorageOptions) {
    this.#o = options;
  }

  /**
   * The recorded state, with `active` taken from the live selector when they differ (someone moved it by
   * hand); without a record, the state read from the cluster: the selected colour and each Deployment's version.
   */
  async loadState(): Promise<ServiceState | null> {
    const service = await this.#o.annotations.read();
    if (!service) return null;
    const live = service.spec?.selector?.version;
    const stored = parseState(service);
    this.#o.lease.noteLoaded(lockOf(service));
    if (stored) {
      if (isColour(live) && live !== stored.active) {
        this.#o.logger.warn(
          { recorded: stored.active, live },
          "the active Service selects another colour than recorded; using the live one",
        );
        stored.active = live;
      }
      return stored;
    }
    return isColour(live) ? this.#fromCluster(live) : null;
  }

  async saveState(state: ServiceState): Promise<void> {
    const { lease } = this.#o;
    const unfinished = isUnfinished(state.current);
    if (unfinished && !lease.held) {
      // An engine that only read the state (`cutover status`) must never write a deploy back.
      throw new CutoverError(
        "STATE_NOT_HELD",
        `this run does not hold deploy ${state.current?.id}; it writes no state for it`,
      );
    }
    let cleared = false;
    let asked: HolderRequest | null = null;
    const heldBefore = lease.held;
    await this.#o.annotations.write("saving the deploy state", (stored, lock, request) => {
      asked = null;
      lease.checkHeld(lock);
      lease.guard(stored, lock);
      cleared = !unfinished;
      if (!unfinished) return { state, lock: null, request: null }; // a request for a deploy that is over is moot
      const held = lease.held ? newLock(lease.held.token) : null;
      if (request?.deploy !== state.current?.id) return { state, lock: held };
      asked = request; // every write that renews the lock also takes what was asked
      return { state, lock: held, request: null };
    });
    // Released only if no newer deploy was claimed meanwhile: its lock is not this write's to drop.
    if (cleared && lease.held === heldBefore) lease.release();
    this.#o.channel.deliver(asked);
  }

  loadHistory(): Promise<DeployRecord[]> {
    return this.#o.history.load();
  }

  async appendHistory(record: DeployRecord): Promise<void> {
    // A run that lost its deploy to another must not record its own ending over the other's.
    await this.#o.lease.checkStillHeld();
    await this.#o.history.append(record);
  }

  async #fromCluster(active: Colour): Promise<ServiceState> {
    const { clients, service } = this.#o;
    const colours = {} as ServiceState["colours"];
    for (const colour of COLOURS) {
      const name = names.deployment(service, colour);
      const deployment = await callApi(`reading deployment ${name}`, () =>
        clients.apps
          .readNamespacedDeployment({ name, namespace: clients.namespace })
          .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
      );
      colours[colour] = {
        version: deployment?.metadata?.annotations?.[ANNOTATIONS.version] ?? null,
        running: (deployment?.spec?.replicas ?? 0) > 0,
      };
    }
    return { schemaVersion: 1, active, colours, current: null, deploys: (await this.loadHistory()).length };
  }
}
