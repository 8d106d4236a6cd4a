import { buildConnector, Pool } from "undici";
import type { RouterConfig } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import { hostPort } from "../host-port.js";
import { H2cSession } from "./h2c-session.js";
import { WarmSockets } from "./warm-sockets.js";

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
 * One replica and the connections to it: a pool of HTTP/1.1 keep-alive connections, fed first from a few
 * connections kept open ahead of use (warm-sockets.ts), and with h2c the HTTP/2 session its requests go over
 * instead (no pool connections then, warm or not).
 */
export class Upstream {
  readonly endpoint: Endpoint;
  readonly key: string;
  readonly pool: Pool;
  /** The replica's HTTP/2 session when it speaks h2c; null for HTTP/1.1. */
  readonly h2c: H2cSession | null;
  /** Idle connections opened ahead of use (HTTP/1.1 only); null under h2c or with none asked for. */
  readonly warm: WarmSockets | null;

  constructor(
    endpoint: Endpoint,
    timeouts: UpstreamTimeouts,
    protocol: UpstreamProtocol = "http1",
    warmConnections = 0,
  ) {
    this.endpoint = endpoint;
    this.key = upstreamKey(endpoint);
    this.warm =
      protocol === "http1" && warmConnections > 0
        ? new WarmSockets(endpoint.host, endpoint.port, warmConnections, timeouts.connectMs)
        : null;
    const connect = { timeout: timeouts.connectMs };
    this.pool = new Pool(`http://${this.key}`, {
      // Without warm connections, undici connects as it always does; with them, it takes those first.
      connect: this.warm === null ? connect : this.warm.connector(buildConnector(connect)),
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
    this.h2c = protocol === "h2c" ? new H2cSession(this.key, timeouts.connectMs) : null;
  }

  /** Stops taking requests; resolves once those already sent have finished. The warm connections close now. */
  async close(): Promise<void> {
    this.warm?.close();
    await Promise.all([this.pool.close().catch(() => undefined), this.h2c?.close()]);
  }

  /** Closes every connection now, failing what is still running. */
  async destroy(): Promise<void> {
    this.warm?.close();
    await Promise.all([this.pool.destroy().catch(() => undefined), this.h2c?.destroy()]);
  }
}

/** "host:port", with brackets around an IPv6 host. */
export function upstreamKey(endpoint: Endpoint): string {
  return hostPort(endpoint.host, endpoint.port);
}
