/**
 * The kubelet of the stand-in's one node in process mode: a pod worker (pod-worker.ts) per pod, synced on
 * every tick of the simulator with the pod as stored. A pod removed from the store without a grace
 * period (a DELETE through the API) has its process killed at once, as a force delete does. `close()`
 * kills every process it started, by PID, and waits until each has exited.
 */
import type { StandInApiServer } from "./api-server.js";
import { isObject, type JsonObject, str } from "./json.js";
import { meta, nameOf } from "./object-store.js";
import type { PodNetwork } from "./pod-network.js";
import { PodWorker } from "./pod-worker.js";

/** Who a pod is, for per-pod choices: its name, image, labels and version (the `cutover.dev/version` annotation). */
export interface PodIdentity {
  readonly name: string;
  readonly image: string;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Environment a test adds to a pod's container, over its spec's (e.g. `{ ERROR_RATIO: "1" }` for 2.0.0);
 * an undefined value adds nothing.
 */
export type PodEnv = (pod: PodIdentity) => Readonly<Record<string, string | undefined>>;

export interface ProcessKubeletOptions {
  readonly server: StandInApiServer;
  readonly network: PodNetwork;
  /** How long one second of the kubelet's clock lasts (probe periods, grace periods, back-off). */
  readonly secondMs: number;
  readonly env: PodEnv;
  /** The script each image stands for (a registry of local programs); undefined: the demo app. */
  readonly programs?: (pod: PodIdentity) => string | undefined;
}

export class ProcessKubelet {
  readonly #o: ProcessKubeletOptions;
  readonly #workers = new Map<string, PodWorker>();
  #closed = false;

  constructor(options: ProcessKubeletOptions) {
    this.#o = options;
  }

  /** One round over every pod in the store. */
  sync(pods: readonly JsonObject[]): void {
    if (this.#closed) return;
    const present = new Set<string>();
    for (const pod of pods) {
      const key = keyOf(pod);
      present.add(key);
      this.#worker(key, pod).sync(pod);
    }
    for (const [key, worker] of this.#workers) {
      if (present.has(key)) continue;
      this.#workers.delete(key);
      void worker.kill();
    }
  }

  /** The process of each pod that has one running, by pod name. */
  pids(): ReadonlyMap<string, number> {
    const pids = new Map<string, number>();
    for (const [key, worker] of this.#workers)
      if (worker.pid !== null) pids.set(key.slice(key.indexOf("/") + 1), worker.pid);
    return pids;
  }

  /** The pod's container output: `kubectl logs --previous`, then `kubectl logs`. */
  logs(namespace: string, name: string): string {
    return this.#workers.get(`${namespace}/${name}`)?.log ?? "";
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    await Promise.all(workers.map((w) => w.kill()));
  }

  #worker(key: string, pod: JsonObject): PodWorker {
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new PodWorker(pod, {
        server: this.#o.server,
        network: this.#o.network,
        secondMs: this.#o.secondMs,
        extraEnv: (p) => definedOnly(this.#o.env(identityOf(p))),
        program: (p) => this.#o.programs?.(identityOf(p)),
        onGone: () => this.#workers.delete(key),
      });
      this.#workers.set(key, worker);
    }
    return worker;
  }
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

const keyOf = (pod: JsonObject) => `${String(meta(pod).namespace)}/${nameOf(pod)}`;

export function identityOf(pod: JsonObject): PodIdentity {
  const m = meta(pod);
  const strings = (map: unknown) =>
    isObject(map) ? Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)])) : {};
  const containers = isObject(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  const first = isObject(containers[0]) ? containers[0] : {};
  return {
    name: nameOf(pod),
    image: str(first.image) ?? "",
    version: strings(m.annotations)["cutover.dev/version"] ?? "",
    labels: strings(m.labels),
  };
}
