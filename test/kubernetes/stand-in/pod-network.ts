/**
 * The pod network of the stand-in's one node. Each pod gets an address from the pod CIDR 10.244.0.0/16, as
 * a CNI plugin hands out (written to status.podIP and status.podIPs), so the addresses the driver reads
 * look like a cluster's. Those addresses are not routable here: what listens "inside" a pod (process mode)
 * is a local process on a free loopback port, and this table says which loopback port stands for
 * podIP:containerPort, the way a CNI's routes carry a packet for a pod IP into the pod's network
 * namespace. A pod IP and port with nothing mapped refuses connections, as a pod whose process does not
 * listen does; in simulated mode nothing is ever mapped.
 */

export interface LoopbackAddress {
  readonly host: string;
  readonly port: number;
}

export class PodNetwork {
  /** Pod IP by pod (namespace/name). */
  readonly #ips = new Map<string, string>();
  /** Loopback port by "podIP:containerPort". */
  readonly #listening = new Map<string, number>();
  #counter = 10;

  /** The pod's IP, handed out once per pod (the sandbox's address). */
  ipOf(namespace: string, name: string): string {
    const key = `${namespace}/${name}`;
    let ip = this.#ips.get(key);
    if (!ip) {
      this.#counter += 1;
      ip = `10.244.${Math.floor(this.#counter / 250)}.${this.#counter % 250}`;
      this.#ips.set(key, ip);
    }
    return ip;
  }

  /** The pod is gone: its IP and whatever listened on it. */
  release(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const ip = this.#ips.get(key);
    if (ip)
      for (const k of [...this.#listening.keys()]) if (k.startsWith(`${ip}:`)) this.#listening.delete(k);
    this.#ips.delete(key);
  }

  /** A process in the pod listens on `containerPort`: it is reached at 127.0.0.1:`loopbackPort`. */
  listen(ip: string, containerPort: number, loopbackPort: number): void {
    this.#listening.set(`${ip}:${containerPort}`, loopbackPort);
  }

  /** The process stopped listening (it exited). */
  unlisten(ip: string, containerPort: number): void {
    this.#listening.delete(`${ip}:${containerPort}`);
  }

  /** Where a connection to ip:port lands; null when nothing listens there (connection refused). */
  addressOf(ip: string, port: number): LoopbackAddress | null {
    const loopback = this.#listening.get(`${ip}:${port}`);
    return loopback === undefined ? null : { host: "127.0.0.1", port: loopback };
  }
}
