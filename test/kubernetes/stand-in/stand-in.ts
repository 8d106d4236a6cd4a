import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { StandInApiServer } from "./api-server.js";
import { type BehaviourOf, ClusterSimulator, type PodBehaviour } from "./cluster-simulator.js";
import type { JsonObject } from "./json.js";
import { PlayedServiceProxy } from "./played-service-proxy.js";
import { PodNetwork } from "./pod-network.js";
import { type PodEnv, type PodIdentity, ProcessKubelet } from "./process-kubelet.js";
import { ServiceProxy } from "./service-proxy.js";

export type { PodEnv, PodIdentity } from "./process-kubelet.js";

export interface StandInOptions {
  readonly namespace?: string;
  /**
   * How each pod behaves. Simulated mode: when it becomes ready, crashes, fails /health. Process mode: the
   * same through the demo app's knobs (readyAfterMs → SLOW_START_S, null or failHealth → FAIL_HEALTH=1,
   * which fails a /health readiness probe too, crash → CRASH_AFTER_S), under `env`.
   */
  readonly behaviour?: BehaviourOf;
  readonly hpaSyncMs?: number;
  /** "simulated" (default): the kubelet plays pods. "processes": each pod is the demo app as a local process. */
  readonly pods?: "simulated" | "processes";
  /** Process mode: environment added to a pod's container over its spec's (e.g. ERROR_RATIO for 2.0.0). */
  readonly env?: PodEnv;
  /** Process mode: the Node.js script a pod's image stands for (e.g. by version); default the demo app. */
  readonly programs?: (pod: PodIdentity) => string | undefined;
  /** Process mode: how long one second of the kubelet lasts (probe periods, grace periods, back-off); 100. */
  readonly kubeletSecondMs?: number;
  /** The kube-proxy delay of serviceAddress() when it is given none: 0 simulated, 300 ms with processes. */
  readonly propagationMs?: number;
}

/**
 * The stand-in cluster for one test: the API server, the simulated controllers and kubelet, a kubeconfig
 * file pointing at it (plain HTTP on loopback, so `insecure-skip-tls-verify: true`, which client-node
 * requires for an http:// server), and kube-proxy stand-ins for Services on request.
 *
 * With `pods: "processes"` every pod runs the demo app as a local process (process-kubelet.ts), kube-proxy
 * forwards TCP connections to those processes (service-proxy.ts) and the pod proxy subresource reaches
 * them (pod-proxy.ts). status.podIP stays a plausible 10.244.x.y; the pod network (pod-network.ts) maps
 * podIP:containerPort to the process's loopback port.
 */
export class StandIn {
  readonly server: StandInApiServer;
  readonly simulator: ClusterSimulator;
  readonly namespace: string;
  readonly network = new PodNetwork();
  /** The kubelet that runs pods as processes; null in simulated mode. */
  readonly kubelet: ProcessKubelet | null;
  readonly #dir = mkdtempSync(join(tmpdir(), "cutover-k8s-"));
  readonly #proxies: (ServiceProxy | PlayedServiceProxy)[] = [];
  readonly #propagationMs: number;
  #url = "";

  private constructor(options: StandInOptions) {
    this.namespace = options.namespace ?? "shop";
    this.server = new StandInApiServer("stand-in-token", this.network);
    const processes = options.pods === "processes";
    this.#propagationMs = options.propagationMs ?? (processes ? 300 : 0);
    this.kubelet = processes ? this.#processKubelet(options) : null;
    this.simulator = new ClusterSimulator(this.server, {
      behaviour: options.behaviour ?? (() => ({ readyAfterMs: 40 })),
      hpaSyncMs: options.hpaSyncMs ?? 100,
      network: this.network,
      ...(this.kubelet ? { kubelet: this.kubelet } : {}),
    });
  }

  #processKubelet(options: StandInOptions): ProcessKubelet {
    const { behaviour, env } = options;
    return new ProcessKubelet({
      server: this.server,
      network: this.network,
      secondMs: options.kubeletSecondMs ?? 100,
      env: (pod) => ({ ...(behaviour ? behaviourEnv(behaviour(pod)) : {}), ...env?.(pod) }),
      ...(options.programs === undefined ? {} : { programs: options.programs }),
    });
  }

  static async start(options: StandInOptions = {}): Promise<StandIn> {
    const standIn = new StandIn(options);
    standIn.#url = await standIn.server.start();
    standIn.simulator.start();
    return standIn;
  }

  get url(): string {
    return this.#url;
  }

  /** A kubeconfig file with one context, `stand-in`, as kubectl would write it. */
  kubeconfig(): string {
    const path = join(this.#dir, "kubeconfig.yaml");
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "stand-in", cluster: { server: this.#url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "tester", user: { token: "stand-in-token" } }],
      contexts: [
        { name: "stand-in", context: { cluster: "stand-in", user: "tester", namespace: this.namespace } },
      ],
      "current-context": "stand-in",
    };
    writeFileSync(path, stringify(config));
    return path;
  }

  /** What `kubectl create -f` does with rendered manifests: a POST per object. */
  async create(objects: readonly object[]): Promise<void> {
    for (const object of objects) {
      const o = object as JsonObject & { apiVersion: string; kind: string };
      const plural = `${o.kind.toLowerCase()}${o.kind.endsWith("s") ? "es" : "s"}`;
      const base = o.apiVersion === "v1" ? "/api/v1" : `/apis/${o.apiVersion}`;
      const response = await fetch(`${this.#url}${base}/namespaces/${this.namespace}/${plural}`, {
        method: "POST",
        headers: {
          authorization: "Bearer stand-in-token",
          "content-type": "application/json",
          "user-agent": "kubectl/v1.33.0",
        },
        body: JSON.stringify(object),
      });
      if (response.status !== 201)
        throw new Error(`creating ${o.kind}: ${response.status} ${await response.text()}`);
    }
  }

  /**
   * kube-proxy for a Service: where a client in the cluster would reach it. It learns of selector changes
   * (and, with processes, of endpoint changes) `propagationMs` late.
   */
  async serviceAddress(
    service: string,
    propagationMs = this.#propagationMs,
  ): Promise<{ host: string; port: number }> {
    const common = { server: this.server, namespace: this.namespace, service, propagationMs };
    const proxy = this.kubelet
      ? new ServiceProxy({ ...common, network: this.network })
      : new PlayedServiceProxy({ ...common, simulator: this.simulator });
    this.#proxies.push(proxy);
    return proxy.start();
  }

  /** Every kube-proxy knows the Services and endpoints as they are now, as after a quiet while. */
  catchUpServices(): void {
    for (const proxy of this.#proxies) proxy.catchUp();
  }

  /** Process mode: the PID of each pod's running process, by pod name. */
  pids(): ReadonlyMap<string, number> {
    return this.kubelet?.pids() ?? new Map();
  }

  /** Process mode: what the pod's container wrote (its last run that exited, then the running one). */
  logs(pod: string): string {
    return this.kubelet?.logs(this.namespace, pod) ?? "";
  }

  get(plural: string, name: string): JsonObject | null {
    return this.server.store.get(plural, this.namespace, name);
  }

  /** Stops the controllers and proxies, kills every pod process (waiting until each has exited), stops the server. */
  async close(): Promise<void> {
    this.simulator.stop();
    for (const proxy of this.#proxies) await proxy.close();
    await this.kubelet?.close();
    await this.server.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A simulated behaviour as the demo app's knobs, for process mode. */
function behaviourEnv(behaviour: PodBehaviour): Record<string, string> {
  const env: Record<string, string> = {};
  if (behaviour.readyAfterMs === null || behaviour.failHealth) env.FAIL_HEALTH = "1";
  else if (behaviour.readyAfterMs > 0) env.SLOW_START_S = String(behaviour.readyAfterMs / 1000);
  if (behaviour.crash) env.CRASH_AFTER_S = "0.05";
  return env;
}
