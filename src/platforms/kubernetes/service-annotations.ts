import type { V1Service } from "@kubernetes/client-node";
import { isColour } from "../../colour.js";
import type { HolderAction } from "../../engine/lifecycle.js";
import type { ServiceState } from "../../engine/ports/state-store.js";
import { CutoverError } from "../../errors.js";
import { type DeployLock, formatLock, parseLock, runnerName } from "./deploy-lock.js";
import { callApi, isNotFound, type KubeClients, patchAs } from "./kube-clients.js";
import { ANNOTATIONS, FIELD_MANAGER, names } from "./manifest-names.js";
import { retryOnConflict } from "./retry-on-conflict.js";

/** What another run asks of the run that holds a deploy: the `cutover.dev/request` annotation. */
export interface HolderRequest {
  readonly action: HolderAction;
  readonly deploy: string;
  readonly by: string;
  readonly at: string;
}

/**
 * What a write puts on the Service: the state, the lock (null removes it) and, unless left undefined (kept
 * as it is), the request (null removes it).
 */
export interface AnnotationWrite {
  readonly state: ServiceState;
  readonly lock: DeployLock | null;
  readonly request?: HolderRequest | null;
}

/** Decides a write from the annotations as read; null writes nothing. */
export type DecideWrite = (
  stored: ServiceState | null,
  lock: DeployLock | null,
  request: HolderRequest | null,
) => AnnotationWrite | null;

/**
 * The annotations of the active Service `<service>` that every CI runner shares: the state
 * (`cutover.dev/state`), the lock on the deploy in progress (`cutover.dev/lock`) and what another run asks
 * of that deploy (`cutover.dev/request`). Reads the Service, and writes them by read-decide-write.
 */
export class ServiceAnnotations {
  readonly #clients: KubeClients;
  /** The active Service's name. */
  readonly name: string;

  constructor(clients: KubeClients, service: string) {
    this.#clients = clients;
    this.name = names.activeService(service);
  }

  /** The active Service; null when it does not exist. */
  read(): Promise<V1Service | null> {
    const { core, namespace } = this.#clients;
    return callApi(`reading service ${this.name}`, () =>
      core
        .readNamespacedService({ name: this.name, namespace })
        .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
    );
  }

  /**
   * Read, decide, write with the resourceVersion read; again from the top after a 409. The state and the
   * lock (null removes it) go in one patch, so they never disagree. `decide` returning null writes nothing.
   */
  async write(what: string, decide: DecideWrite): Promise<void> {
    const name = this.name;
    const { core, namespace } = this.#clients;
    await callApi(what, () =>
      retryOnConflict(what, async () => {
        const service = await this.read();
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
}

/** The Service's `cutover.dev/state`; null when it has none. Throws STATE_CORRUPT when it is not a state. */
export function parseState(service: V1Service): ServiceState | null {
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

/** The Service's `cutover.dev/lock`, if any. */
export function lockOf(service: V1Service | null): DeployLock | null {
  return parseLock(service?.metadata?.annotations?.[ANNOTATIONS.lock]);
}

/** A `cutover.dev/request` annotation; null when there is none, or it is not a request. */
export function parseRequest(text: string | undefined): HolderRequest | null {
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
