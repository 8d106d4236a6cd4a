import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { Counter, Histogram, type Registry } from "prom-client";
import type { Dispatcher } from "undici";
import { type Colour, otherColour } from "../colour.js";
import type { ReplicaSet } from "./replica-set.js";

export interface MirrorOptions {
  /** Share of eligible requests copied, 0..1. */
  readonly share: number;
  /** Methods copied, upper case (GET and HEAD by default). Requests with a body never are. */
  readonly methods: readonly string[];
  /** Copies in flight at most; a copy beyond that is dropped and counted. */
  readonly queueLimit: number;
  /** Time a copy has for its answer before it is given up. */
  readonly timeoutMs: number;
}

/** Marks a mirrored request for the service, so it may skip side effects it would rather not repeat. */
export const MIRROR_HEADER = "x-cutover-mirror";

/** The mirror's metrics, registered once in the router's registry and kept across setMirror() calls. */
export class MirrorMetrics {
  readonly requests: Counter<"colour" | "status">;
  readonly duration: Histogram<"colour">;
  readonly dropped: Counter<"colour" | "reason">;

  constructor(registry: Registry, buckets: readonly number[]) {
    const registers = [registry];
    this.requests = new Counter({
      name: "cutover_mirror_requests_total",
      help: "Mirrored copies of live requests answered by the other colour, by colour and status (502: no answer in time); answers are discarded",
      labelNames: ["colour", "status"] as const,
      registers,
    });
    this.duration = new Histogram({
      name: "cutover_mirror_request_duration_seconds",
      help: "Time the other colour took to answer a mirrored copy, by colour",
      labelNames: ["colour"] as const,
      buckets: [...buckets],
      registers,
    });
    this.dropped = new Counter({
      name: "cutover_mirror_dropped_total",
      help: "Copies not sent, by target colour and reason (queue-full, no-replica)",
      labelNames: ["colour", "reason"] as const,
      registers,
    });
  }
}

/**
 * Shadow traffic: a share of live idempotent requests is copied to the other colour and its answers are
 * thrown away. The live request never waits for its copy: a copy is sent once the live answer is complete, shares
 * nothing with it but the (read-only) header list, and is dropped when `queueLimit` copies are in flight.
 */
export class Mirror {
  readonly #options: MirrorOptions;
  readonly #methods: ReadonlySet<string>;
  readonly #replicas: (colour: Colour) => ReplicaSet;
  readonly #metrics: MirrorMetrics;
  readonly #inFlight = new Set<MirrorCopy>();
  #stopped = false;

  constructor(options: MirrorOptions, replicas: (colour: Colour) => ReplicaSet, metrics: MirrorMetrics) {
    this.#options = options;
    this.#methods = new Set(options.methods.map((m) => m.toUpperCase()));
    this.#replicas = replicas;
    this.#metrics = metrics;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Maybe copies a live request that `from` serves to the other colour. Never throws. */
  offer(req: IncomingMessage, headers: readonly string[], from: Colour): void {
    if (this.#stopped || !this.#methods.has(req.method ?? "")) return;
    if (this.#options.share < 1 && Math.random() >= this.#options.share) return;
    const to = otherColour(from);
    if (this.#inFlight.size >= this.#options.queueLimit) {
      this.#metrics.dropped.inc({ colour: to, reason: "queue-full" });
      return;
    }
    const upstream = this.#replicas(to).pick("");
    if (upstream === undefined) {
      this.#metrics.dropped.inc({ colour: to, reason: "no-replica" });
      return;
    }
    const copy = new MirrorCopy(to, this.#metrics, (c) => this.#inFlight.delete(c));
    this.#inFlight.add(copy);
    try {
      upstream.pool.dispatch(
        {
          path: req.url as string,
          method: req.method as Dispatcher.HttpMethod,
          headers: [...headers, MIRROR_HEADER, "1"],
          headersTimeout: this.#options.timeoutMs,
          bodyTimeout: this.#options.timeoutMs,
        },
        copy,
      );
    } catch {
      copy.onError();
    }
  }

  /** Sends no more copies and cuts those in flight. */
  stop(): void {
    this.#stopped = true;
    for (const copy of this.#inFlight) copy.cancel();
    this.#inFlight.clear();
  }
}

/** One copy in flight: an undici handler that reads the answer's status and throws the body away. */
class MirrorCopy implements Dispatcher.DispatchHandlers {
  readonly #colour: Colour;
  readonly #metrics: MirrorMetrics;
  readonly #done: (copy: MirrorCopy) => void;
  readonly #started = performance.now();
  #abort: ((error?: Error) => void) | null = null;
  #status = 0;
  #finished = false;

  constructor(colour: Colour, metrics: MirrorMetrics, done: (copy: MirrorCopy) => void) {
    this.#colour = colour;
    this.#metrics = metrics;
    this.#done = done;
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.#finished) abort();
    else this.#abort = abort;
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode >= 200) this.#status = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.#finish(this.#status);
  }

  onError(): void {
    this.#finish(502);
  }

  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#abort?.();
  }

  #finish(status: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#done(this);
    const colour = this.#colour;
    this.#metrics.requests.inc({ colour, status: String(status) });
    this.#metrics.duration.observe({ colour }, (performance.now() - this.#started) / 1000);
  }
}
