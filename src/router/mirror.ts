import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Counter, Histogram, type Registry } from "prom-client";
import { type Colour, otherColour } from "../colour.js";
import { compiledWorker } from "../worker-path.js";
import type { CancelJob, CopyJob, CopyReport } from "./mirror-worker.js";
import type { ReplicaSet } from "./replica-set.js";

export interface MirrorOptions {
  /** Share of eligible requests copied, 0..1. */
  readonly share: number;
  /** Copies a second at most, spread evenly, whatever the share; undefined: no cap. */
  readonly maxPerSecond?: number | undefined;
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
 * The mirror's worker thread and what the router's thread knows of it: the copies in flight (the queue
 * limit's count) and the metrics, kept up to date from the thread's reports. One per router, started when
 * mirroring is first turned on, kept across setMirror() calls.
 */
export class MirrorThread {
  readonly metrics: MirrorMetrics;
  #worker: Worker | null = null;
  #inFlight = 0;

  constructor(metrics: MirrorMetrics) {
    this.metrics = metrics;
    this.#start(); // now, so the first copies do not wait for a thread to boot
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  send(job: CopyJob): void {
    this.#inFlight++;
    const worker = this.#start();
    worker.ref(); // copies in flight keep the process until their answers are in
    worker.postMessage(job);
  }

  /** Cuts the copies in flight; they are reported, and counted, as cancelled (not at all in the metrics). */
  cancelAll(): void {
    this.#worker?.postMessage({ kind: "cancel" } satisfies CancelJob);
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#inFlight = 0;
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(compiledWorker(import.meta.url, "router/mirror-worker.js"));
    worker.unref(); // an idle mirror never keeps the process alive
    worker.on("message", (report: CopyReport) => this.#record(report));
    worker.on("exit", () => {
      // A mirror thread that died must never touch live traffic: forget its copies, start afresh next time.
      if (this.#worker !== worker) return;
      this.#inFlight = 0;
      this.#worker = null;
    });
    worker.on("error", () => undefined); // followed by "exit"
    this.#worker = worker;
    return worker;
  }

  #record(report: CopyReport): void {
    this.#inFlight = Math.max(0, this.#inFlight - report.done.length);
    if (this.#inFlight === 0) this.#worker?.unref();
    for (const [colour, status, seconds] of report.done) {
      if (status === 0) continue; // cancelled
      this.metrics.requests.inc({ colour, status: String(status) });
      this.metrics.duration.observe({ colour }, seconds);
    }
  }
}

/**
 * At most `perSecond` copies a second: a token bucket that holds a tenth of a second's worth (at least
 * one), so copies come evenly spread rather than in a burst at the start of each second.
 */
class CopyRate {
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at = performance.now();

  constructor(perSecond: number) {
    this.#perMs = perSecond / 1000;
    this.#capacity = Math.max(1, perSecond / 10);
    this.#tokens = this.#capacity;
  }

  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * Shadow traffic: a share of live idempotent requests (and at most `maxPerSecond` a second) is copied to the
 * other colour and its answers are thrown away. The live request never waits for its copy: a copy is handed
 * to the mirror's own thread once the live answer is complete, shares nothing with it but the (read-only)
 * header list, and is dropped when `queueLimit` copies are in flight.
 */
export class Mirror {
  readonly #options: MirrorOptions;
  readonly #methods: ReadonlySet<string>;
  readonly #replicas: (colour: Colour) => ReplicaSet;
  readonly #thread: MirrorThread;
  readonly #rate: CopyRate | null;
  #stopped = false;

  constructor(options: MirrorOptions, replicas: (colour: Colour) => ReplicaSet, thread: MirrorThread) {
    this.#options = options;
    this.#methods = new Set(options.methods.map((m) => m.toUpperCase()));
    this.#replicas = replicas;
    this.#thread = thread;
    this.#rate = options.maxPerSecond === undefined ? null : new CopyRate(options.maxPerSecond);
  }

  /** Maybe copies a live request that `from` serves to the other colour. Never throws. */
  offer(req: IncomingMessage, headers: readonly string[], from: Colour): void {
    if (this.#stopped || !this.#methods.has(req.method ?? "")) return;
    if (this.#options.share < 1 && Math.random() >= this.#options.share) return;
    if (this.#rate !== null && !this.#rate.take()) return;
    const to = otherColour(from);
    const metrics = this.#thread.metrics;
    if (this.#thread.inFlight >= this.#options.queueLimit) {
      metrics.dropped.inc({ colour: to, reason: "queue-full" });
      return;
    }
    const upstream = this.#replicas(to).pick("");
    if (upstream === undefined) {
      metrics.dropped.inc({ colour: to, reason: "no-replica" });
      return;
    }
    this.#thread.send({
      kind: "copy",
      colour: to,
      origin: `http://${upstream.key}`,
      path: req.url as string,
      method: req.method as string,
      headers: [...headers, MIRROR_HEADER, "1"],
      timeoutMs: this.#options.timeoutMs,
    });
  }

  /** Sends no more copies and cuts those in flight. */
  stop(): void {
    this.#stopped = true;
    this.#thread.cancelAll();
  }
}
