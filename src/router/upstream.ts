import { Pool } from "undici";
import type { Endpoint } from "../engine/ports/platform.js";
import { hostPort } from "../host-port.js";

export interface UpstreamTimeouts {
  /** Time allowed for the connection to open. */
  readonly connectMs: number;
  /** Time allowed from sending the request to receiving the whole response head. */
  readonly headersMs: number;
  /** Longest silence allowed between two chunks of a response body; 0 waits forever. */
  readonly bodyMs: number;
}

/** One replica and the pool of keep-alive connections to it. */
export class Upstream {
  readonly endpoint: Endpoint;
  readonly key: string;
  readonly pool: Pool;

  constructor(endpoint: Endpoint, timeouts: UpstreamTimeouts) {
    this.endpoint = endpoint;
    this.key = upstreamKey(endpoint);
    this.pool = new Pool(`http://${this.key}`, {
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
  }

  /** Stops taking requests; resolves once those already sent have finished. */
  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }

  /** Closes every connection now, failing what is still running. */
  async destroy(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}

/** "host:port", with brackets around an IPv6 host. */
export function upstreamKey(endpoint: Endpoint): string {
  return hostPort(endpoint.host, endpoint.port);
}
