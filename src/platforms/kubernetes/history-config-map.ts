import type { V1ConfigMap } from "@kubernetes/client-node";
import type { DeployRecord } from "../../engine/lifecycle.js";
import { CutoverError } from "../../errors.js";
import { callApi, isNotFound, type KubeClients } from "./kube-clients.js";
import { FIELD_MANAGER, MANAGED_BY, names } from "./manifest-names.js";
import { retryOnConflict } from "./retry-on-conflict.js";

const HISTORY_KEY = "history.json";

/**
 * The deploys of a service that have ended, newest last, as JSON in the ConfigMap `<service>-cutover-history`
 * (an annotation holds at most 256 KiB for all of an object's annotations, a ConfigMap 1 MiB; the history is
 * trimmed to `limit`).
 */
export class HistoryConfigMap {
  readonly #clients: KubeClients;
  readonly #service: string;
  readonly #limit: number;
  readonly #name: string;

  constructor(clients: KubeClients, service: string, limit: number) {
    this.#clients = clients;
    this.#service = service;
    this.#limit = limit;
    this.#name = names.history(service);
  }

  async load(): Promise<DeployRecord[]> {
    const map = await this.#read();
    return map ? parseHistory(map) : [];
  }

  /** Adds `record`, replacing an entry with the same id, and drops the oldest beyond the limit. */
  async append(record: DeployRecord): Promise<void> {
    const name = this.#name;
    const { core, namespace } = this.#clients;
    await callApi(`writing the history ConfigMap ${name}`, () =>
      retryOnConflict(`writing ${name}`, async () => {
        const map = await this.#read();
        const history = (map ? parseHistory(map) : []).filter((r) => r.id !== record.id);
        history.push(record);
        const data = { [HISTORY_KEY]: JSON.stringify(history.slice(-this.#limit)) };
        if (!map) {
          const body: V1ConfigMap = {
            metadata: { name, namespace, labels: { app: this.#service, ...MANAGED_BY } },
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

  #read(): Promise<V1ConfigMap | null> {
    const name = this.#name;
    const { core, namespace } = this.#clients;
    return callApi(`reading the history ConfigMap ${name}`, () =>
      core
        .readNamespacedConfigMap({ name, namespace })
        .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
    );
  }
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
