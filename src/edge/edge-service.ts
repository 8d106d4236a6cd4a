import { Pool } from "undici";
import type { Address } from "../config/address.js";
import type { FrontTarget } from "../front/front-target.js";
import { httpUrl } from "../host-port.js";
import type { EdgeServiceSettings } from "./load-edge-config.js";

/** Time allowed for a connection to a service's router to open (loopback: it opens at once, or is refused). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * One service behind the edge, as the front's exchange sees a target: its router, reached through a pool of
 * keep-alive connections. Always enabled and never judged: a service that is down answers 503 from the
 * exchange for its own requests, and no request of it ever goes anywhere else.
 */
export class EdgeService implements FrontTarget {
  readonly name: string;
  readonly upstream: Address;
  readonly hosts: readonly string[];
  readonly pathPrefix: string;
  readonly stripPrefix: boolean;
  readonly pool: Pool;
  readonly basePath = "";
  readonly enabled = true;
  readonly healthy = null;

  constructor(settings: EdgeServiceSettings) {
    this.name = settings.name;
    this.upstream = settings.upstream;
    this.hosts = settings.hosts;
    this.pathPrefix = settings.pathPrefix;
    this.stripPrefix = settings.stripPrefix;
    // The router's own timeouts (60 s for a head by default) answer first; undici's (300 s) are a backstop.
    this.pool = new Pool(httpUrl(settings.upstream), { connect: { timeout: CONNECT_TIMEOUT_MS } });
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}
