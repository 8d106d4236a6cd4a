import { Counter, Gauge, Registry } from "prom-client";
import type { FrontRegionState } from "./global-front.js";

/**
 * What became of a request at one region: answered (the region sent an answer, whatever its status),
 * retried (the region failed before answering; the request went to the next region), failed (the front
 * answered 502/504 itself, or cut an answer short), client-closed (the client went away first), cancelled
 * (the front shut down under it). Requests no region could take count under region "none", outcome no-region.
 */
export const FRONT_OUTCOMES = [
  "answered",
  "retried",
  "failed",
  "client-closed",
  "cancelled",
  "no-region",
] as const;
export type FrontOutcome = (typeof FRONT_OUTCOMES)[number];

/** The region label of requests that no region could take. */
export const NO_REGION = "none";

/** Counts what became of each request at each target (a region, or a service behind the edge). */
export interface OutcomeCounter {
  count(target: string, outcome: FrontOutcome): void;
}

/** The front's Prometheus metrics, in a registry of their own. */
export class FrontMetrics implements OutcomeCounter {
  readonly registry = new Registry();
  readonly #requests: Counter<"region" | "outcome">;
  /** Label children by "region outcome": prom-client hashes labels on every inc() otherwise. */
  readonly #children = new Map<string, Counter.Internal>();

  constructor(states: () => readonly FrontRegionState[]) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: "cutover_front_requests_total",
      help: "Requests the global front sent to a region, by region and outcome (a retried request counts at both regions)",
      labelNames: ["region", "outcome"] as const,
      registers,
    });
    new Gauge({
      name: "cutover_front_region_healthy",
      help: "1 when the front's probe finds the region healthy, 0 when failing or not decided yet",
      labelNames: ["region"] as const,
      registers,
      collect() {
        for (const state of states()) this.set({ region: state.region }, state.healthy === true ? 1 : 0);
      },
    });
    new Gauge({
      name: "cutover_front_region_enabled",
      help: "1 when the region takes new requests, 0 when drained",
      labelNames: ["region"] as const,
      registers,
      collect() {
        for (const state of states()) this.set({ region: state.region }, state.enabled ? 1 : 0);
      },
    });
  }

  count(region: string, outcome: FrontOutcome): void {
    const key = `${region} ${outcome}`;
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#requests.labels({ region, outcome });
      this.#children.set(key, child);
    }
    child.inc();
  }
}
