import { randomUUID } from "node:crypto";
import type { V1ConfigMap, V1Service } from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { COLOURS, type Colour, isColour } from "../../colour.js";
import { formatDuration } from "../../duration.js";
import type { DeployRecord } from "../../engine/deploy-record.js";
import type { ServiceState, StateStore } from "../../engine/ports/state-store.js";
import { CutoverError } from "../../errors.js";
import {
  abandonedBy,
  type DeployLock,
  DeployLockedError,
  formatLock,
  isAbandoned,
  lockAge,
  newLock,
  parseLock,
  runnerName,
} from "./deploy-lock.js";
import { callApi, isNotFound, type KubeClients, patchAs } from "./kube-clients.js";
import { ANNOTATIONS, FIELD_MANAGER, MANAGED_BY, names } from "./manifest-names.js";
import { retryOnConflict } from "./retry-on-conflict.js";

export interface AnnotationStateStoreOptions {
  readonly clients: KubeClients;
  readonly service: string;
  /** Deploys kept in the history ConfigMap, newest last. */
  readonly historyLimit: number;
  /** A lock not renewed for this long is abandoned; the holder renews it every third of it. */
  readonly leaseMs: number;
  readonly logger?: Logger;
}

const HISTORY_KEY = "history.json";

/** What another run asks of the run that holds a deploy: the `cutover.dev/request` annotation. */
interface HolderRequest {
  readonly action: "promote" | "abort";
  readonly deploy: string;
  readonly by: string;
  readonly at: string;
}

/** How often a run that asked looks again for the answer. */
const ASK_POLL_MS = 250;
/** How long a deploy that left the state may take to show up in the history. */
const ENDING_WAIT_MS = 10_000;

/** Another cutover wrote deploys this process has not seen: its view of the service is stale. */
export class StaleStateError extends CutoverError {
  constructor(id: string, recorded: number) {
    super(
      "STATE_STALE",
      `another cutover has recorded ${recorded} deploy(s) since this one read the state (it was about to start ${id}); run the command again`,
    );
    this.name = "StaleStateError";
  }
}

/**
 * The engine's state where every CI runner sees it: as JSON in the `cutover.dev/state` annotation of the
 * active Service (small: the colours and the deploy in progress), and the history in a ConfigMap
 * `<service>-cutover-history` (an annotation holds at most 256 KiB for all of an object's annotations, a
 * ConfigMap 1 MiB; the history is trimmed to `historyLimit`). Every write carries the resourceVersion it
 * read; on 409 it reads again and re-decides. The deploy in progress is the lock: `claim` refuses while
 * another unfinished one is recorded, and records a random token beside it (`cutover.dev/lock`); no write
 * from a process without that token replaces or clears an unfinished deploy. The holder renews the lock
 * while its deploy runs; a deploy whose lock is older than the lease was abandoned (its runner was killed)
 * and `takeOver` lets `cutover abort` close it.
 */
export class AnnotationStateStore implements StateStore {
  readonly #o: AnnotationStateStoreOptions;
  readonly #log: Logger;
  /** The lock this process took, and the deploy it took it for; only that deploy may be replaced or cleared. */
  #held: { readonly token: string; readonly id: string } | null = null;
  #renewing: NodeJS.Timeout | null = null;
  readonly #lostListeners = new Set<(reason: string) => void>();
  /** The lock as loadState found it, and when. */
  #seen: { lock: DeployLock | null; at: number } | null = null;
  readonly #requestListeners = new Set<(action: "promote" | "abort", by: string) => void>();

  constructor(options: AnnotationStateStoreOptions) {
    this.#o = options;
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "annotation-state-store" });
  }

  /**
   * The recorded state, with `active` taken from the live selector when they differ (someone moved it by
   * hand); without a record, the state read from the cluster: the selected colour and each Deployment's version.
   */
  async loadState(): Promise<ServiceState | null> {
    const service = await this.#readService();
    if (!service) return null;
    const live = service.spec?.selector?.version;
    const stored = parseState(service);
    this.#seen = { lock: parseLock(service.metadata?.annotations?.[ANNOTATIONS.lock]), at: Date.now() };
    if (stored) {
      if (isColour(live) && live !== stored.active) {
        this.#log.warn(
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
    const unfinished = state.current !== null && !isFinal(state.current);
    if (unfinished && !this.#held) {
      // An engine that only read the state (`cutover status`) must never write a deploy back.
      throw new CutoverError(
        "STATE_NOT_HELD",
        `this run does not hold deploy ${state.current?.id}; it writes no state for it`,
      );
    }
    let cleared = false;
    let asked: HolderRequest | null = null;
    const heldBefore = this.#held;
    await this.#write("saving the deploy state", (stored, lock, request) => {
      asked = null;
      this.#checkHeld(lock);
      this.#guard(stored, lock);
      cleared = !unfinished;
      if (!unfinished) return { state, lock: null, request: null }; // a request for a deploy that is over is moot
      const held = this.#held ? newLock(this.#held.token) : null;
      if (request?.deploy !== state.current?.id) return { state, lock: held };
      asked = request; // every write that renews the lock also takes what was asked
      return { state, lock: held, request: null };
    });
    // Released only if no newer deploy was claimed meanwhile: its lock is not this write's to drop.
    if (cleared && this.#held === heldBefore) this.#release();
    this.#answer(asked);
  }

  holder(): string | null {
    const lock = this.#seen?.lock;
    if (!this.#seen || !lock) return null;
    const age = lockAge(lock, this.#seen.at);
    const state =
      age === null ? "a lock that is never renewed" : `lock renewed ${formatDuration(age)} before this read`;
    const abandoned =
      age !== null && age > this.#o.leaseMs ? `; abandoned (lease ${formatDuration(this.#o.leaseMs)})` : "";
    return `${lock.holder} (${state}${abandoned})`;
  }

  /** Calls `listener` once this process finds that another took over the deploy it holds. */
  onLockLost(listener: (reason: string) => void): void {
    this.#lostListeners.add(listener);
  }

  async claim(record: DeployRecord): Promise<void> {
    const token = randomUUID();
    await this.#write(`claiming the service for ${record.id}`, (stored, lock) => {
      this.#guard(stored, lock);
      const recorded = stored?.deploys ?? 0;
      if (sequenceOf(record.id) <= recorded) throw new StaleStateError(record.id, recorded);
      const base = stored ?? initialState(record);
      return { state: { ...base, current: record }, lock: newLock(token), request: null };
    });
    this.#hold(token, record.id);
  }

  /**
   * Takes the lock of `record` when it is paused (left for a later run), or abandoned: unfinished (or paused
   * with a delay, which its process waits out) and its lock not renewed within the lease. Says who abandoned
   * it, or null for a paused one.
   */
  async takeOver(record: DeployRecord): Promise<string | null> {
    const token = randomUUID();
    let abandoned: string | null = null;
    await this.#write(`taking over ${record.id}`, (stored, lock) => {
      const current = stored?.current;
      if (!stored || !current || current.id !== record.id || isFinal(current)) {
        const now = current ? `deploy ${current.id} is ${current.phase}` : "no deploy is in progress";
        throw new CutoverError("NOT_PAUSED", `${now}; there is no deploy ${record.id} to take over`);
      }
      abandoned = null;
      // A pause with a delay is held by the process that waits it out, while that process lives.
      if (current.phase !== "Paused" || current.resumesAt) {
        if (!isAbandoned(lock, this.#o.leaseMs))
          throw new DeployLockedError(current, lock, this.#o.leaseMs, names.activeService(this.#o.service));
        abandoned = abandonedBy(lock);
      }
      return { state: stored, lock: newLock(token), request: null };
    });
    this.#hold(token, record.id);
    return abandoned;
  }

  /** Stops renewing the lock: the deploy is over, or left paused for another run. */
  letGo(): void {
    if (this.#renewing) clearInterval(this.#renewing);
    this.#renewing = null;
  }

  async loadHistory(): Promise<DeployRecord[]> {
    const map = await this.#readHistory();
    return map ? parseHistory(map) : [];
  }

  async appendHistory(record: DeployRecord): Promise<void> {
    // A run that lost its deploy to another must not record its own ending over the other's.
    if (this.#held)
      this.#checkHeld(parseLock((await this.#readService())?.metadata?.annotations?.[ANNOTATIONS.lock]));
    const name = names.history(this.#o.service);
    const { core, namespace } = this.#o.clients;
    await callApi(`writing the history ConfigMap ${name}`, () =>
      retryOnConflict(`writing ${name}`, async () => {
        const map = await this.#readHistory();
        const history = (map ? parseHistory(map) : []).filter((r) => r.id !== record.id);
        history.push(record);
        const data = { [HISTORY_KEY]: JSON.stringify(history.slice(-this.#o.historyLimit)) };
        if (!map) {
          const body: V1ConfigMap = {
            metadata: { name, namespace, labels: { app: this.#o.service, ...MANAGED_BY } },
            data,
          };
          await core.createNamespacedConfigMap({ namespace, body, fieldManager: FIELD_MANAGER });
          return;
        }
        const body: V1ConfigMap = { ...map, data };
        await core.replaceNamespacedConfigMap({ name, namespace, body, fieldManager: FIELD_MANAGER });
      }),
    );
  }

  /** Refuses a write while an unfinished deploy is recorded under a lock this process did not take. */
  #guard(stored: ServiceState | null, lock: DeployLock | null): void {
    const holder = stored?.current;
    if (!holder || isFinal(holder)) return;
    if (this.#held !== null && lock?.token === this.#held.token) return;
    throw new DeployLockedError(holder, lock, this.#o.leaseMs, names.activeService(this.#o.service));
  }

  /**
   * While this process holds a deploy (from its claim or takeover until it writes the deploy as over), the
   * lock must be its own. If it is not, another run took the deploy over (after the lease) or the lock was
   * removed by hand: this process must stop acting for it. Throws after telling the listeners.
   */
  #checkHeld(lock: DeployLock | null): void {
    const held = this.#held;
    if (!held || lock?.token === held.token) return;
    const by = lock ? lock.holder : "nobody (the lock was removed)";
    const reason = `another cutover took over deploy ${held.id} (its lock is now held by ${by})`;
    this.#release();
    this.#log.error({ deploy: held.id, holder: lock?.holder ?? null }, "lost the deploy lock");
    for (const listener of this.#lostListeners) queueMicrotask(() => listener(reason));
    throw new CutoverError("LOCK_LOST", reason);
  }

  /** Holds the lock under `token` for deploy `id`, and renews it every third of the lease until it is released. */
  #hold(token: string, id: string): void {
    this.letGo();
    this.#held = { token, id };
    const renew = () =>
      this.#renew(token).catch((error: unknown) => {
        if ((error as CutoverError).code === "LOCK_LOST") return; // told the listeners
        this.#log.warn({ err: (error as Error).message }, "renewing the deploy lock failed; trying again");
      });
    this.#renewing = setInterval(renew, Math.max(100, Math.floor(this.#o.leaseMs / 3)));
    this.#renewing.unref();
  }

  #release(): void {
    this.letGo();
    this.#held = null;
  }

  /** Renews the lock, and takes in what another run asked of this deploy (answered once the write is in). */
  async #renew(token: string): Promise<void> {
    let asked: HolderRequest | null = null;
    await this.#write("renewing the deploy lock", (stored, lock, request) => {
      asked = null;
      if (this.#held?.token !== token) return null; // released meanwhile
      this.#checkHeld(lock);
      if (!stored?.current || isFinal(stored.current)) {
        this.letGo(); // written as over by this process; nothing left to keep alive
        return null;
      }
      if (request?.deploy !== stored.current.id) return { state: stored, lock: newLock(token) };
      asked = request;
      return { state: stored, lock: newLock(token), request: null };
    });
    this.#answer(asked);
  }

  /** Passes on what another run asked, once the write that took the request is in. */
  #answer(asked: HolderRequest | null): void {
    if (!asked) return;
    this.#log.info({ action: asked.action, by: asked.by }, "another run asked this deploy");
    for (const listener of this.#requestListeners) listener(asked.action, asked.by);
  }

  /** Calls `listener` when another run asks this process's deploy to promote or abort. */
  onRequest(listener: (action: "promote" | "abort", by: string) => void): void {
    this.#requestListeners.add(listener);
  }

  /**
   * Asks the run that holds `record` (alive: its lock is renewed) to `action` it, and waits for the answer:
   * the holder takes the request when it next renews its lock (every third of the lease), then acts on it.
   * Resolves with the record once the deploy has ended (or, after a promote, paused again). A holder that
   * renews without taking the request cannot answer (it is refused at once); one that dies meanwhile is
   * HOLDER_GONE, for the caller to take the deploy over.
   */
  async ask(record: DeployRecord, action: "promote" | "abort"): Promise<DeployRecord> {
    const mine: HolderRequest = { action, deploy: record.id, by: runnerName(), at: new Date().toISOString() };
    let renewedAtAsking: string | null = null;
    await this.#write(`asking the holder of ${record.id} to ${action}`, (stored, lock, request) => {
      const current = stored?.current;
      if (
        !stored ||
        current?.id !== record.id ||
        isFinal(current) ||
        (action === "promote" && current.phase !== "Paused")
      ) {
        const now = current ? `deploy ${current.id} is ${current.phase}` : "no deploy is in progress";
        throw new CutoverError("NOT_PAUSED", `${now}; there is nothing to ${action}`);
      }
      // Only a holder that renews its lock reads requests (an older cutover does not): refuse as before.
      if (!lock || lockAge(lock) === null)
        throw new DeployLockedError(current, lock, this.#o.leaseMs, names.activeService(this.#o.service));
      // An abort replaces a promote not yet taken; a promote does not replace an abort.
      if (request?.deploy === record.id && request.action === "abort" && action === "promote")
        throw new CutoverError(
          "ASKED",
          `${request.by} has already asked deploy ${record.id} to abort; see \`cutover status\` in a few seconds`,
        );
      renewedAtAsking = lock.renewedAt;
      return { state: stored, lock, request: mine };
    });
    let taken = false;
    let goneAt: number | null = null;
    while (true) {
      await new Promise((resolve) => setTimeout(resolve, ASK_POLL_MS));
      const service = await this.#readService();
      const annotations = service?.metadata?.annotations ?? {};
      const current = service ? parseState(service)?.current : null;
      if (current?.id !== record.id || isFinal(current)) {
        const ended = (await this.loadHistory()).find((r) => r.id === record.id);
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
      if (taken && action === "promote" && current.phase === "Paused" && !current.resumesAt) return current;
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

  /**
   * Read, decide, write with the resourceVersion read; again from the top after a 409. The state and the
   * lock (null removes it) go in one patch, so they never disagree. `decide` returning null writes nothing.
   */
  async #write(
    what: string,
    decide: (
      stored: ServiceState | null,
      lock: DeployLock | null,
      request: HolderRequest | null,
    ) => { state: ServiceState; lock: DeployLock | null; request?: HolderRequest | null } | null,
  ): Promise<void> {
    const name = names.activeService(this.#o.service);
    const { core, namespace } = this.#o.clients;
    await callApi(what, () =>
      retryOnConflict(what, async () => {
        const service = await this.#readService();
        if (!service)
          throw new CutoverError(
            "SERVICE_MISSING",
            `service ${name} does not exist in namespace ${namespace}; create it with \`cutover render kubernetes | kubectl apply -f -\``,
          );
        const annotations = service.metadata?.annotations ?? {};
        const lock = parseLock(annotations[ANNOTATIONS.lock]);
        const next = decide(parseState(service), lock, parseRequest(annotations[ANNOTATIONS.request]));
        if (!next) return;
        const body = {
          metadata: {
            resourceVersion: service.metadata?.resourceVersion,
            annotations: {
              [ANNOTATIONS.state]: JSON.stringify({ ...next.state, writer: runnerName() }),
              [ANNOTATIONS.lock]: formatLock(next.lock),
              ...(next.request === undefined
                ? {}
                : { [ANNOTATIONS.request]: next.request ? JSON.stringify(next.request) : null }),
            },
          },
        };
        await core.patchNamespacedService(
          { name, namespace, body, fieldManager: FIELD_MANAGER },
          patchAs.merge(),
        );
      }),
    );
  }

  async #fromCluster(active: Colour): Promise<ServiceState> {
    const colours = {} as ServiceState["colours"];
    for (const colour of COLOURS) {
      const name = names.deployment(this.#o.service, colour);
      const deployment = await callApi(`reading deployment ${name}`, () =>
        this.#o.clients.apps
          .readNamespacedDeployment({ name, namespace: this.#o.clients.namespace })
          .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
      );
      colours[colour] = {
        version: deployment?.metadata?.annotations?.[ANNOTATIONS.version] ?? null,
        running: (deployment?.spec?.replicas ?? 0) > 0,
      };
    }
    return { schemaVersion: 1, active, colours, current: null, deploys: (await this.loadHistory()).length };
  }

  #readService(): Promise<V1Service | null> {
    const name = names.activeService(this.#o.service);
    const { core, namespace } = this.#o.clients;
    return callApi(`reading service ${name}`, () =>
      core
        .readNamespacedService({ name, namespace })
        .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
    );
  }

  #readHistory(): Promise<V1ConfigMap | null> {
    const name = names.history(this.#o.service);
    const { core, namespace } = this.#o.clients;
    return callApi(`reading the history ConfigMap ${name}`, () =>
      core
        .readNamespacedConfigMap({ name, namespace })
        .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
    );
  }
}

function parseState(service: V1Service): ServiceState | null {
  const text = service.metadata?.annotations?.[ANNOTATIONS.state];
  if (text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const state = value as Partial<ServiceState> & { writer?: unknown };
  if (state?.schemaVersion !== 1 || !isColour(state.active) || typeof state.colours !== "object") {
    throw new CutoverError(
      "STATE_CORRUPT",
      `the ${ANNOTATIONS.state} annotation of service ${service.metadata?.name} is not a cutover state; remove it with \`kubectl annotate service ${service.metadata?.name} ${ANNOTATIONS.state}-\` and try again`,
    );
  }
  const { writer: _writer, ...rest } = state;
  return rest as ServiceState;
}

function parseHistory(map: V1ConfigMap): DeployRecord[] {
  const text = map.data?.[HISTORY_KEY];
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) return value as DeployRecord[];
  } catch {
    // reported below
  }
  throw new CutoverError(
    "STATE_CORRUPT",
    `ConfigMap ${map.metadata?.name} does not hold a list of deploys under ${HISTORY_KEY}; move it away (\`kubectl delete configmap ${map.metadata?.name}\`) and try again`,
  );
}

/** The state to lock with when nothing was recorded yet; the engine's own state replaces it at once. */
function initialState(record: DeployRecord): ServiceState {
  const from = record.from.colour;
  const to = record.to.colour;
  const colours = {
    [from]: { version: record.from.version, running: true },
    [to]: { version: null, running: false },
  };
  return {
    schemaVersion: 1,
    active: from,
    colours: colours as ServiceState["colours"],
    current: null,
    deploys: 0,
  };
}

const isFinal = (record: DeployRecord) => record.phase === "Healthy" || record.phase === "Aborted";

/** The number in a deploy id ("d12" → 12); 0 when there is none. */
function sequenceOf(id: string): number {
  const match = /(\d+)$/.exec(id);
  return match ? Number(match[1]) : 0;
}

function parseRequest(text: string | undefined): HolderRequest | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<HolderRequest> | null;
    if ((value?.action === "promote" || value?.action === "abort") && typeof value.deploy === "string")
      return {
        action: value.action,
        deploy: value.deploy,
        by: String(value.by ?? "another run"),
        at: String(value.at ?? ""),
      };
  } catch {
    // not a request
  }
  return null;
}
