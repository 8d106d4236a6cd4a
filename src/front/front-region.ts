import { Pool } from "undici";
import type { RoutableRegion } from "./front-routing.js";
import type { FrontTarget } from "./front-target.js";
import type { FrontRegionState } from "./global-front.js";

/** Time allowed for a connection to a region to open; past it the request may go to the next region. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface FrontRegionOptions {
  readonly name: string;
  /** Where the region serves its users, e.g. http://eu.example.com:8080 (a path is put before every request's). */
  readonly endpoint: string;
  readonly priority: number;
  readonly weight: number;
  readonly enabled: boolean;
}

/** One region as the front sees it: where to send requests, whether it may take new ones, what its probe says. */
export class FrontRegion implements RoutableRegion, FrontTarget {
  readonly name: string;
  readonly priority: number;
  readonly weight: number;
  readonly endpoint: string;
  /** The endpoint's path without its trailing slash ("" for none), put before every request's path. */
  readonly basePath: string;
  /** Keep-alive connections to the region. */
  readonly pool: Pool;
  #enabled: boolean;
  #healthy: boolean | null = null;
  #detail = "not probed yet";

  constructor(options: FrontRegionOptions) {
    const url = new URL(options.endpoint);
    this.name = options.name;
    this.priority = options.priority;
    this.weight = options.weight;
    this.endpoint = options.endpoint;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.pool = new Pool(url.origin, { connect: { timeout: CONNECT_TIMEOUT_MS } });
    this.#enabled = options.enabled;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  get healthy(): boolean | null {
    return this.#healthy;
  }

  /** Takes the region in or out: the next request routed reads it. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
  }

  setHealth(healthy: boolean | null, detail: string): void {
    this.#healthy = healthy;
    this.#detail = detail;
  }

  state(): FrontRegionState {
    return {
      region: this.name,
      enabled: this.#enabled,
      healthy: this.#healthy,
      priority: this.priority,
      weight: this.weight,
      detail: this.#detail,
    };
  }
}
