/**
 * kube-proxy for one Service in simulated mode (no pod runs a process), on loopback: a connection goes to one endpoint of the Service's selector,
 * chosen when it opens, and stays there while it lives (conntrack), as with iptables/IPVS mode. Endpoints
 * are the pods the selector picks that are Ready and not terminating, or with `publishNotReadyAddresses`
 * every running pod (EndpointSlice conditions). With no endpoint the connection is reset. Selector changes
 * reach it after `propagationMs`, like a load balancer that lags the API (Argo Rollouts' reason for a
 * scale-down delay). The pod itself is played here: GET /health answers
 * {"status","environment","version"} (503 when its behaviour says so); every path answers with
 * `x-app-version`, as the demo service does. Only the selector lags; pods are read as they are now.
 * Process mode forwards to real processes instead: service-proxy.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { StandInApiServer } from "./api-server.js";
import type { ClusterSimulator } from "./cluster-simulator.js";
import { isObject, type JsonObject, str } from "./json.js";
import { meta, nameOf } from "./object-store.js";
import { isReady } from "./pod-conditions.js";
import { selects } from "./selectors.js";

export interface PlayedServiceProxyOptions {
  readonly server: StandInApiServer;
  readonly simulator: ClusterSimulator;
  readonly namespace: string;
  readonly service: string;
  readonly propagationMs?: number;
}

export class PlayedServiceProxy {
  readonly #o: PlayedServiceProxyOptions;
  readonly #http: Server;
  /** The Service's spec as it was at each change: kube-proxy sees the one `propagationMs` old. */
  readonly #history: { at: number; spec: JsonObject }[] = [];
  readonly #backend = new WeakMap<Socket, string>();
  readonly #unsubscribe: () => void;
  #next = 0;

  constructor(options: PlayedServiceProxyOptions) {
    this.#o = options;
    const live = options.server.store.get("services", options.namespace, options.service);
    if (live && isObject(live.spec)) this.#history.push({ at: 0, spec: live.spec });
    this.#unsubscribe = options.server.store.subscribe((event) => {
      if (
        event.resource !== "services" ||
        event.namespace !== options.namespace ||
        nameOf(event.object) !== options.service
      )
        return;
      if (isObject(event.object.spec)) this.#history.push({ at: Date.now(), spec: event.object.spec });
    });
    this.#http = createServer((req, res) => this.#serve(req, res));
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve) => this.#http.listen(0, "127.0.0.1", resolve));
    return { host: "127.0.0.1", port: (this.#http.address() as AddressInfo).port };
  }

  /** kube-proxy has caught up: the selector as it is now is the one it uses. */
  catchUp(): void {
    const live = this.#o.server.store.get("services", this.#o.namespace, this.#o.service);
    this.#history.splice(0, this.#history.length);
    if (live && isObject(live.spec)) this.#history.push({ at: 0, spec: live.spec });
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    let pod = this.#podByName(this.#backend.get(socket));
    if (!pod) {
      const endpoints = this.#endpoints();
      pod = endpoints[this.#next++ % Math.max(1, endpoints.length)];
      if (!pod) {
        socket.destroy();
        return;
      }
      this.#backend.set(socket, nameOf(pod));
    }
    const env = containerEnv(pod);
    const version = env.APP_VERSION ?? "";
    const headers = { "x-app-version": version, "x-pod": nameOf(pod) };
    if ((req.url ?? "/").startsWith("/health")) {
      const failing = this.#o.simulator.behaviourOf(pod).failHealth === true;
      res.writeHead(failing ? 503 : 200, { ...headers, "content-type": "application/json" });
      res.end(
        JSON.stringify({
          status: failing ? "unhealthy" : "healthy",
          environment: env.ENVIRONMENT ?? "",
          version,
        }),
      );
      return;
    }
    res.writeHead(200, { ...headers, "content-type": "text/plain" });
    res.end(`hello from ${version}\n`);
  }

  #spec(): JsonObject | undefined {
    const horizon = Date.now() - (this.#o.propagationMs ?? 0);
    const seen = this.#history.filter((h) => h.at <= horizon);
    return (seen[seen.length - 1] ?? this.#history[0])?.spec;
  }

  #endpoints(): JsonObject[] {
    const spec = this.#spec();
    if (!spec) return [];
    const selector = isObject(spec.selector) ? spec.selector : undefined;
    const notReadyToo = spec.publishNotReadyAddresses === true;
    return this.#o.server.store
      .list("pods", this.#o.namespace)
      .filter((p) => !meta(p).deletionTimestamp && selects(selector, p))
      .filter((p) => isReady(p) || (notReadyToo && isObject(p.status) && p.status.phase === "Running"));
  }

  #podByName(name: string | undefined): JsonObject | undefined {
    if (!name) return undefined;
    const pod = this.#o.server.store.get("pods", this.#o.namespace, name);
    return pod && !meta(pod).deletionTimestamp ? pod : undefined;
  }
}

function containerEnv(pod: JsonObject): Record<string, string> {
  const containers = isObject(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  const first = isObject(containers[0]) ? containers[0] : {};
  const env = Array.isArray(first.env) ? first.env : [];
  return Object.fromEntries(
    env.flatMap((e) => (isObject(e) && str(e.name) ? [[String(e.name), str(e.value) ?? ""]] : [])),
  );
}
