import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { StandInApiServer } from "./api-server.js";
import { type BehaviourOf, ClusterSimulator } from "./cluster-simulator.js";
import type { JsonObject } from "./json.js";
import { ServiceProxy } from "./service-proxy.js";

export interface StandInOptions {
  readonly namespace?: string;
  readonly behaviour?: BehaviourOf;
  readonly hpaSyncMs?: number;
}

/**
 * The stand-in cluster for one test: the API server, the simulated controllers and kubelet, a kubeconfig
 * file pointing at it (plain HTTP on loopback, so `insecure-skip-tls-verify: true`, which client-node
 * requires for an http:// server), and kube-proxy stand-ins for Services on request.
 */
export class StandIn {
  readonly server: StandInApiServer;
  readonly simulator: ClusterSimulator;
  readonly namespace: string;
  readonly #dir = mkdtempSync(join(tmpdir(), "cutover-k8s-"));
  readonly #proxies: ServiceProxy[] = [];
  #url = "";

  private constructor(options: StandInOptions) {
    this.namespace = options.namespace ?? "shop";
    this.server = new StandInApiServer("stand-in-token");
    this.simulator = new ClusterSimulator(this.server, {
      behaviour: options.behaviour ?? (() => ({ readyAfterMs: 40 })),
      hpaSyncMs: options.hpaSyncMs ?? 100,
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

  /** kube-proxy for a Service: where a client in the cluster would reach it. */
  async serviceAddress(service: string, propagationMs = 0): Promise<{ host: string; port: number }> {
    const proxy = new ServiceProxy({
      server: this.server,
      simulator: this.simulator,
      namespace: this.namespace,
      service,
      propagationMs,
    });
    this.#proxies.push(proxy);
    return proxy.start();
  }

  get(plural: string, name: string): JsonObject | null {
    return this.server.store.get(plural, this.namespace, name);
  }

  async close(): Promise<void> {
    this.simulator.stop();
    for (const proxy of this.#proxies) await proxy.close();
    await this.server.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
