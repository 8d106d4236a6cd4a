import { Counter, Gauge, Registry } from "prom-client";
import type { FrontOutcome, OutcomeCounter } from "../front/front-metrics.js";

/**
 * What became of a request at the edge: the front's outcomes (answered, failed: the edge answered 502, 503
 * or 504 itself, client-closed, cancelled), or one the edge decides before any service: misdirected (no
 * service answers for its host: 421), no-path (its host's services take none of its path: 404) and bad-path
 * (a path with a dot-segment or an encoded slash or dot, which is not routed: 400).
 */
export type EdgeOutcome = FrontOutcome | "misdirected" | "no-path" | "bad-path" | "upgraded";

/** The service label of requests no service took. */
export const NO_SERVICE = "none";

/** The edge's Prometheus metrics, per service, in a registry of their own. */
export class EdgeMetrics implements OutcomeCounter {
  readonly registry = new Registry();
  readonly #requests: Counter<"service" | "outcome">;
  /** Label children by "service outcome": prom-client hashes labels on every inc() otherwise. */
  readonly #children = new Map<string, Counter.Internal>();

  constructor(inFlight: () => number) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: "cutover_edge_requests_total",
      help: "Requests through the edge, by service and outcome (upgraded: a WebSocket tunnel opened)",
      labelNames: ["service", "outcome"] as const,
      registers,
    });
    new Gauge({
      name: "cutover_edge_in_flight",
      help: "Requests and WebSocket tunnels the edge is serving now",
      registers,
      collect() {
        this.set(inFlight());
      },
    });
  }

  count(service: string, outcome: EdgeOutcome): void {
    const key = `${service} ${outcome}`;
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#requests.labels({ service, outcome });
      this.#children.set(key, child);
    }
    child.inc();
  }
}
