import { Counter, Gauge, Registry } from "prom-client";
import { COLOURS, type Colour } from "../colour.js";
import { DurationHistogram } from "./duration-histogram.js";
import type { UpstreamFailureReason } from "./upstream-errors.js";

/** What the metrics read at scrape time instead of counting on every request. */
export interface RouterState {
  readonly active: Colour;
  /** Times the active colour changed. */
  readonly switches: number;
  inFlight(colour: Colour): number;
}

/** The hold of new requests (RouterHold), as the metrics read it at scrape time. */
export interface HoldCounts {
  /** Requests waiting at the router now. */
  readonly held: number;
  /** Requests held, then sent to a colour at a release. */
  readonly released: number;
  /** Requests whose client went away while they were held. */
  readonly gone: number;
  /** Requests answered 503 because the hold was full. */
  readonly refused: number;
  /** Holds ended by a release. */
  readonly releasedHolds: number;
  /** Holds ended by their own timeout. */
  readonly timedOutHolds: number;
  /** Time new requests were held, over every hold (the one on now included). */
  readonly seconds: number;
}

const STATUS_SLOTS = 600;

/** Upper bounds (seconds) of the request duration histograms. */
export const DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const LABELS: Readonly<Record<Colour, { readonly colour: Colour }>> = {
  blue: { colour: "blue" },
  green: { colour: "green" },
};

/**
 * Per-colour Prometheus metrics of the router, in a registry of their own. Requests are counted and their
 * durations bucketed in plain arrays handed to prom-client when scraped, so the hot path does no label hashing.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly #statusCounts: Readonly<Record<Colour, Float64Array>> = {
    blue: new Float64Array(STATUS_SLOTS),
    green: new Float64Array(STATUS_SLOTS),
  };
  readonly #duration: DurationHistogram;
  /** Upstream failures by "colour reason retried" (rare: a map, not arrays). */
  readonly #upstreamFailures = new Map<string, number>();

  constructor(state: RouterState, hold: { counts(): HoldCounts }) {
    const counts = this.#statusCounts;
    const registers = [this.registry];
    new Counter({
      name: "cutover_requests_total",
      help: "Requests and WebSockets the router answered, by colour and HTTP status (499: the client went away first)",
      labelNames: ["colour", "status"] as const,
      registers,
      collect() {
        this.reset();
        for (const colour of COLOURS) {
          const slots = counts[colour];
          for (let status = 0; status < STATUS_SLOTS; status++) {
            const count = slots[status] as number;
            if (count > 0) this.inc({ colour, status: String(status) }, count);
          }
        }
      },
    });
    this.#duration = new DurationHistogram(
      "cutover_request_duration_seconds",
      "Time from a request's arrival to the end of its answer, by colour (WebSockets excluded)",
      DURATION_BUCKETS,
      this.registry,
    );
    new Gauge({
      name: "cutover_in_flight",
      help: "Requests and WebSockets in flight, by colour",
      labelNames: ["colour"] as const,
      registers,
      collect() {
        for (const colour of COLOURS) this.set(LABELS[colour], state.inFlight(colour));
      },
    });
    new Gauge({
      name: "cutover_active_colour",
      help: "1 for the colour that serves traffic, 0 for the other",
      labelNames: ["colour"] as const,
      registers,
      // Router workers (router.workers) all serve the same colour: one of them says which, not their sum.
      aggregator: "first",
      collect() {
        for (const colour of COLOURS) this.set(LABELS[colour], colour === state.active ? 1 : 0);
      },
    });
    new Counter({
      name: "cutover_switches_total",
      help: "Times the active colour changed",
      registers,
      // Every router worker counts every switch (one started later has counted fewer).
      aggregator: "max",
      collect() {
        this.reset();
        this.inc(state.switches);
      },
    });
    const upstreamFailures = this.#upstreamFailures;
    new Counter({
      name: "cutover_upstream_failures_total",
      help: "Requests whose replica failed them before a whole answer, by colour, reason (connect, reset, timeout, bad-response, other) and whether the router sent them again to another replica (only safe methods and requests with the idempotency header are)",
      labelNames: ["colour", "reason", "retried"] as const,
      registers,
      collect() {
        this.reset();
        for (const [key, count] of upstreamFailures) {
          const [colour, reason, retried] = key.split(" ") as [string, string, string];
          this.inc({ colour, reason, retried }, count);
        }
      },
    });
    registerHoldMetrics(registers, hold);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts a finished HTTP request and observes its duration. */
  recordRequest(colour: Colour, status: number, seconds: number): void {
    this.#countStatus(colour, status);
    this.#duration.observe(colour, seconds);
  }

  /** Counts a finished WebSocket (or other upgrade) by the status of its handshake. */
  recordTunnel(colour: Colour, status: number): void {
    this.#countStatus(colour, status);
  }

  /** Counts a request whose replica failed it; `retried` when it was sent again to another replica. */
  recordUpstreamFailure(colour: Colour, reason: UpstreamFailureReason, retried: boolean): void {
    const key = `${colour} ${reason} ${retried}`;
    this.#upstreamFailures.set(key, (this.#upstreamFailures.get(key) ?? 0) + 1);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #countStatus(colour: Colour, status: number): void {
    const slots = this.#statusCounts[colour];
    const slot = status > 0 && status < STATUS_SLOTS ? status : 0;
    slots[slot] = (slots[slot] as number) + 1;
  }
}

/** The hold's gauge and counters (`cutover pause`, a database switchover), read from `hold` when scraped. */
function registerHoldMetrics(registers: Registry[], hold: { counts(): HoldCounts }): void {
  new Gauge({
    name: "cutover_held_requests",
    help: "Requests waiting at the router now, held by `cutover pause` or a database switchover",
    registers,
    collect() {
      this.set(hold.counts().held);
    },
  });
  new Counter({
    name: "cutover_held_requests_total",
    help: "Requests that arrived while held, by outcome: released (sent to a colour), gone (the client left first), refused (503, the hold was full)",
    labelNames: ["outcome"] as const,
    registers,
    collect() {
      const counts = hold.counts();
      this.reset();
      this.inc({ outcome: "released" }, counts.released);
      this.inc({ outcome: "gone" }, counts.gone);
      this.inc({ outcome: "refused" }, counts.refused);
    },
  });
  new Counter({
    name: "cutover_holds_total",
    help: "Holds of new requests that ended, by how: release (cutover resume, or the step that held) or timeout",
    labelNames: ["ended"] as const,
    registers,
    // Every router worker holds in every hold.
    aggregator: "max",
    collect() {
      const counts = hold.counts();
      this.reset();
      this.inc({ ended: "release" }, counts.releasedHolds);
      this.inc({ ended: "timeout" }, counts.timedOutHolds);
    },
  });
  new Counter({
    name: "cutover_hold_seconds_total",
    help: "Time new requests were held at the router, over every hold (the one on now included)",
    registers,
    aggregator: "max",
    collect() {
      this.reset();
      this.inc(hold.counts().seconds);
    },
  });
}
