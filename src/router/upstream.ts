import { Pool } from "undici";
import type { RouterConfig } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import { hostPort } from "../host-port.js";
import { H2cSession } from "./h2c-session.js";

/** How the router speaks to the replicas: HTTP/1.1, or HTTP/2 cleartext with prior knowledge (gRPC). */
export type UpstreamProtocol = RouterConfig["upstreamProtocol"];

export interface UpstreamTimeouts {
  /** Time allowed for the connection to open. */
  readonly connectMs: number;
  /** Time allowed from sending the request to receiving the whole response head. */
  readonly headersMs: number;
  /** Longest silence allowed between two chunks of a response body; 0 waits forever. */
  readonly bodyMs: number;
}

/**
 * One replica and the connections to it: a pool of HTTP/1.1 keep-alive connections (opened on first use,
 * so never under h2c), and with h2c the HTTP/2 session its requests go over instead.
 */
export class Upstream {
  readonly endpoint: Endpoint;
  readonly key: string;
  readonly pool: Pool;
  /** The replica's HTTP/2 session when it speaks h2c; null for HTTP/1.1. */
  readonly h2c: H2cSession | null;

  constructor(endpoint: Endpoint, timeouts: UpstreamTimeouts, protocol: UpstreamProtocol = "http1") {
    this.endpoint = endpoint;
    this.key = upstreamKey(endpoint);
    this.pool = new Pool(`http://${this.key}`, {
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
    this.h2c = protocol === "h2c" ? new H2cSession(this.key, timeouts.connectMs) : null;
  }

  /** Stops taking requests; resolves once those already sent have finished. */
  async close(): Promise<void> {
    await Promise.all([this.pool.close().catch(() => undefined), this.h2c?.close()]);
  }

  /** Closes every connection now, failing what is still running. */
  async destroy(): Promise<void> {
    await Promise.all([this.pool.destroy().catch(() => undefined), this.h2c?.destroy()]);
  }
}

/** "host:port", with brackets around an IPv6 host. */
export function upstreamKey(endpoint: Endpoint): string {
  return hostPort(endpoint.host, endpoint.port);
}
