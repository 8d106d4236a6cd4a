import type { Endpoint } from "../engine/ports/platform.js";
import { stickyHash } from "./sticky-hash.js";
import { Upstream, type UpstreamProtocol, type UpstreamTimeouts, upstreamKey } from "./upstream.js";

export interface ReplicaSetOptions {
  /** Pick by a hash of the client address instead of in turn. */
  readonly sticky: boolean;
  readonly timeouts: UpstreamTimeouts;
  /** How the replicas are spoken to; default http1. */
  readonly protocol?: UpstreamProtocol;
  /** Idle connections kept open to each replica ahead of use (warm-sockets.ts); default 0: none. */
  readonly warmConnections?: number;
}

/** The replicas of one colour in rotation, and the choice of one for each request. */
export class ReplicaSet {
  readonly #options: ReplicaSetOptions;
  #upstreams: readonly Upstream[] = [];
  #next = 0;

  constructor(options: ReplicaSetOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#upstreams.length;
  }

  get endpoints(): readonly Endpoint[] {
    return this.#upstreams.map((upstream) => upstream.endpoint);
  }

  /**
   * Replaces the set; keeps the pools of replicas still in it, closes the others once idle (their warm
   * connections at once), and opens warm connections to the new ones.
   */
  replace(endpoints: readonly Endpoint[]): void {
    const previous = new Map(this.#upstreams.map((upstream) => [upstream.key, upstream]));
    const next = new Map<string, Upstream>();
    for (const endpoint of endpoints) {
      const key = upstreamKey(endpoint);
      if (next.has(key)) continue;
      next.set(
        key,
        previous.get(key) ??
          new Upstream(
            endpoint,
            this.#options.timeouts,
            this.#options.protocol,
            this.#options.warmConnections,
          ),
      );
      previous.delete(key);
    }
    this.#upstreams = [...next.values()];
    for (const gone of previous.values()) void gone.close();
  }

  /** The replica for the next request from `clientIp`; undefined when the set is empty. */
  pick(clientIp: string): Upstream | undefined {
    const upstreams = this.#upstreams;
    if (upstreams.length === 0) return undefined;
    if (this.#options.sticky) return upstreams[stickyHash(clientIp) % upstreams.length];
    const index = this.#next % upstreams.length;
    this.#next = index + 1;
    return upstreams[index];
  }

  /** A replica to retry on after `failed`: another one when there is one, else `failed` itself if still in rotation. */
  pickAfter(failed: Upstream, clientIp: string): Upstream | undefined {
    const upstreams = this.#upstreams;
    const index = upstreams.indexOf(failed);
    if (index === -1) return this.pick(clientIp);
    return upstreams[(index + 1) % upstreams.length];
  }

  /** Closes every pool now. */
  async destroy(): Promise<void> {
    const upstreams = this.#upstreams;
    this.#upstreams = [];
    await Promise.all(upstreams.map((upstream) => upstream.destroy()));
  }
}
