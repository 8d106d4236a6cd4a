import { Counter, Gauge, Registry } from "prom-client";
import { COLOURS, type Colour } from "../colour.js";
import { DurationHistogram } from "./duration-histogram.js";

/** What the metrics read at scrape time instead of counting on every request. */
export interface RouterState {
  readonly active: Colour;
  /** Times the active colour changed. */
  readonly switches: number;
  inFlight(colour: Colour): number;
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

  constructor(state: RouterState) {
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
      collect() {
        for (const colour of COLOURS) this.set(LABELS[colour], colour === state.active ? 1 : 0);
      },
    });
    new Counter({
      name: "cutover_switches_total",
      help: "Times the active colour changed",
      registers,
      collect() {
        this.reset();
        this.inc(state.switches);
      },
    });
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

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #countStatus(colour: Colour, status: number): void {
    const slots = this.#statusCounts[colour];
    const slot = status > 0 && status < STATUS_SLOTS ? status : 0;
    slots[slot] = (slots[slot] as number) + 1;
  }
}
