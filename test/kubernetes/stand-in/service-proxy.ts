/**
 * kube-proxy for one Service in process mode: a TCP listener on loopback that stands for the Service's
 * first port, and forwards each connection, byte for byte, to one pod process. What it copies, and from
 * where (the EndpointSlice rules are in endpoint-slices.ts):
 *
 * - the backend is chosen when the connection opens and kept for its whole life, as iptables / IPVS
 *   DNAT with conntrack does; a later selector or endpoint change never moves an open connection, and a
 *   connection to a pod that starts terminating keeps going until the pod closes it (conntrack entries of
 *   TCP flows are not flushed) — https://kubernetes.io/docs/reference/networking/virtual-ips/ (iptables
 *   and IPVS proxy modes);
 * - new connections go to the ready endpoints, else to the serving terminating ones (KEP-1669,
 *   pkg/proxy/topology.go CategorizeEndpoints), in turn (IPVS's `rr` scheduler; iptables picks at
 *   random); with no endpoint the connection is reset (iptables rejects it); a backend that refuses
 *   resets it too (iptables mode does not retry another pod, the same page says);
 * - kube-proxy learns of Service and EndpointSlice changes late: it sees the world as it was
 *   `propagationMs` ago (the lag Argo Rollouts' scaleDownDelaySeconds exists for, "for IP table
 *   propagation": shared/reference/blue-green-tools.md, Argo Rollouts), for the selector and for pod
 *   readiness alike. The state it started with counts as long known, and `catchUp()` makes the present
 *   state known at once (a kube-proxy that had a quiet minute).
 *
 * Pod IPs lead to processes through the pod network (pod-network.ts).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { StandInApiServer } from "./api-server.js";
import { type Endpoint, endpointsOf, usable } from "./endpoint-slices.js";
import { nameOf } from "./object-store.js";
import type { LoopbackAddress, PodNetwork } from "./pod-network.js";

export interface ServiceProxyOptions {
  readonly server: StandInApiServer;
  readonly network: PodNetwork;
  readonly namespace: string;
  readonly service: string;
  readonly propagationMs: number;
}

/** What kube-proxy knew at one moment. */
interface Snapshot {
  readonly at: number;
  readonly endpoints: readonly Endpoint[];
}

export class ServiceProxy {
  readonly #o: ServiceProxyOptions;
  readonly #tcp: Server;
  readonly #sockets = new Set<Socket>();
  readonly #unsubscribe: () => void;
  #history: Snapshot[];
  #next = 0;

  constructor(options: ServiceProxyOptions) {
    this.#o = options;
    this.#history = [{ at: 0, endpoints: this.#endpointsNow() }];
    this.#unsubscribe = options.server.store.subscribe((event) => {
      if (event.namespace !== options.namespace) return;
      const ours = event.resource === "services" && nameOf(event.object) === options.service;
      if (ours || event.resource === "pods") this.#record();
    });
    this.#tcp = createServer({ allowHalfOpen: true }, (client) => this.#forward(client));
  }

  async start(): Promise<LoopbackAddress> {
    await new Promise<void>((resolve) => this.#tcp.listen(0, "127.0.0.1", resolve));
    const address = this.#tcp.address();
    return { host: "127.0.0.1", port: typeof address === "object" && address ? address.port : 0 };
  }

  /** kube-proxy has caught up: it knows the Service and its endpoints as they are now. */
  catchUp(): void {
    this.#history = [{ at: 0, endpoints: this.#endpointsNow() }];
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }

  #forward(client: Socket): void {
    const address = this.#pick();
    if (!address) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ ...address, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    }
    client.on("error", () => upstream.resetAndDestroy());
    upstream.on("error", () => client.resetAndDestroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** The next usable endpoint in turn, where its pod IP leads; null: none, or nothing listens there. */
  #pick(): LoopbackAddress | null {
    const endpoints = usable(this.#known());
    const endpoint = endpoints[this.#next++ % Math.max(1, endpoints.length)];
    return endpoint ? this.#o.network.addressOf(endpoint.ip, endpoint.port) : null;
  }

  #known(): readonly Endpoint[] {
    const horizon = Date.now() - this.#o.propagationMs;
    const seen = this.#history.filter((s) => s.at <= horizon);
    const latest = seen[seen.length - 1];
    if (latest && seen.length > 1) this.#history = this.#history.slice(seen.length - 1);
    return (latest ?? this.#history[0])?.endpoints ?? [];
  }

  #record(): void {
    this.#history.push({ at: Date.now(), endpoints: this.#endpointsNow() });
    this.#known(); // forgets what is older than the oldest state it may still use
  }

  #endpointsNow(): Endpoint[] {
    const { store } = this.#o.server;
    const service = store.get("services", this.#o.namespace, this.#o.service);
    return endpointsOf(service, store.list("pods", this.#o.namespace));
  }
}
