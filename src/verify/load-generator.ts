import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import { epochNow } from "./clock.js";
import { type ErrorKind, errorKindOf } from "./error-kind.js";

/** How a request reached the target: on a kept-alive connection, or on a connection of its own. */
export const CONNECTION_MODES = ["keep-alive", "fresh", "both"] as const;
export type ConnectionMode = (typeof CONNECTION_MODES)[number];

/** One request the generator sent, and what came back. */
export interface LoadSample {
  /** Milliseconds since the epoch, sub-millisecond precise (see epochNow); comparable with Date.now(). */
  readonly sentAt: number;
  /** sentAt + latencyMs: when the answer (or the error) was complete. */
  readonly endedAt: number;
  readonly latencyMs: number;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** The version that answered (x-app-version header), if it said. */
  readonly version: string | null;
  /**
   * The colour that answered, if it said: the built-in router's x-cutover-colour header, else the service's
   * own x-app-environment (the demo service echoes ENVIRONMENT, the colour cutover gives every replica).
   */
  readonly colour: string | null;
  /** Why no response arrived: ECONNRESET, ECONNREFUSED, timeout, ... */
  readonly error: string | null;
  /** The same, as reset | timeout | refused | other; null when a response arrived. */
  readonly errorKind: ErrorKind | null;
  readonly connection: "keep-alive" | "fresh";
}

export interface LoadOptions {
  readonly url: string;
  /** Concurrent keep-alive connections, each sending one request after another; with ratePerSecond, the cap on requests in flight. */
  readonly connections: number;
  readonly path?: string;
  /** Hard bounds: the generator stops by itself at whichever comes first. */
  readonly maxDurationMs: number;
  readonly maxRequests: number;
  readonly timeoutMs?: number;
  /** keep-alive (the default), fresh (a new TCP connection per request), or both (half the requests each). */
  readonly connectionMode?: ConnectionMode;
  /** Open loop: send this many requests a second whatever the answers do (else closed loop, one per connection). */
  readonly ratePerSecond?: number;
}

/**
 * HTTP/1.1 load on loopback. Closed loop by default (each connection sends its next request when the
 * last one answered), or open loop at a fixed rate; on kept-alive connections, fresh ones, or both.
 */
export class LoadGenerator {
  readonly #o: LoadOptions;
  readonly #keepAlive: Pool;
  readonly #fresh: Pool;
  readonly #samples: LoadSample[] = [];
  #running = false;
  #loops: Promise<void>[] = [];
  #deadline = 0;
  #sent = 0;
  #missed = 0;
  #inFlight = 0;

  constructor(options: LoadOptions) {
    this.#o = options;
    const pool = () =>
      new Pool(options.url, {
        connections: options.connections,
        pipelining: 1,
        headersTimeout: options.timeoutMs ?? 10_000,
        bodyTimeout: options.timeoutMs ?? 10_000,
      });
    this.#keepAlive = pool();
    this.#fresh = pool();
  }

  get samples(): readonly LoadSample[] {
    return this.#samples;
  }

  /** Ticks of a fixed rate skipped because `connections` requests were already in flight. */
  get missed(): number {
    return this.#missed;
  }

  /** The answer that completed last, if any: who serves right now. */
  get last(): LoadSample | undefined {
    return this.#samples.at(-1);
  }

  start(): void {
    this.#running = true;
    this.#deadline = Date.now() + this.#o.maxDurationMs;
    const rate = this.#o.ratePerSecond;
    this.#loops =
      rate === undefined
        ? Array.from({ length: this.#o.connections }, (_, i) => this.#closedLoop(i))
        : [this.#openLoop(rate)];
  }

  /** Resolves when the generator has stopped by itself (a bound reached) and every answer is in. */
  finished(): Promise<void> {
    return Promise.all(this.#loops).then(() => undefined);
  }

  /** Stops sending, waits for the answers in flight, closes the connections. Safe to call again. */
  async stop(): Promise<LoadSample[]> {
    this.#running = false;
    await Promise.all(this.#loops);
    await Promise.all([this.#keepAlive, this.#fresh].map((p) => (p.closed ? undefined : p.close())));
    return this.#samples;
  }

  #more(): boolean {
    return this.#running && Date.now() < this.#deadline && this.#sent < this.#o.maxRequests;
  }

  async #closedLoop(worker: number): Promise<void> {
    const fresh = this.#onFreshConnection(worker);
    while (this.#more()) {
      this.#sent += 1;
      this.#samples.push(await this.#one(fresh));
    }
  }

  async #openLoop(rate: number): Promise<void> {
    const interval = 1000 / rate;
    const started = performance.now();
    const pending = new Set<Promise<void>>();
    for (let tick = 0; this.#more(); tick += 1) {
      const wait = started + tick * interval - performance.now();
      if (wait > 0) await sleep(wait);
      if (!this.#more()) break;
      if (this.#inFlight >= this.#o.connections) {
        this.#missed += 1;
        continue;
      }
      this.#sent += 1;
      const request = this.#one(this.#onFreshConnection(tick)).then((sample) => {
        this.#samples.push(sample);
        pending.delete(request);
      });
      pending.add(request);
    }
    await Promise.all(pending);
  }

  /** Whether request number `n` goes on a fresh connection, by the connection mode. */
  #onFreshConnection(n: number): boolean {
    const mode = this.#o.connectionMode ?? "keep-alive";
    return mode === "fresh" || (mode === "both" && n % 2 === 1);
  }

  async #one(fresh: boolean): Promise<LoadSample> {
    const sentAt = epochNow();
    const started = performance.now();
    const connection = fresh ? "fresh" : "keep-alive";
    this.#inFlight += 1;
    try {
      const response = await (fresh ? this.#fresh : this.#keepAlive).request({
        method: "GET",
        path: this.#o.path ?? "/",
        // undici closes the connection after this answer: the next request opens a new one.
        headers: fresh ? { connection: "close" } : {},
      });
      await response.body.dump();
      const header = (name: string) => {
        const value = response.headers[name];
        return typeof value === "string" ? value : null;
      };
      const latencyMs = performance.now() - started;
      return {
        sentAt,
        endedAt: sentAt + latencyMs,
        latencyMs,
        status: response.statusCode,
        version: header("x-app-version"),
        colour: header("x-cutover-colour") ?? header("x-app-environment"),
        error: null,
        errorKind: null,
        connection,
      };
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      const latencyMs = performance.now() - started;
      return {
        sentAt,
        endedAt: sentAt + latencyMs,
        latencyMs,
        status: 0,
        version: null,
        colour: null,
        error: code,
        errorKind: errorKindOf(code),
        connection,
      };
    } finally {
      this.#inFlight -= 1;
    }
  }
}

export interface LoadSummary {
  readonly sent: number;
  readonly failed: number;
  readonly byVersion: Readonly<Record<string, number>>;
  readonly byColour: Readonly<Record<string, number>>;
  /** Failures by error code or "HTTP <status>". */
  readonly errors: Readonly<Record<string, number>>;
  /** Failures by kind: reset, timeout, refused, other, or "http" for an answer with status >= 400. */
  readonly failuresByKind: Readonly<Record<string, number>>;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** A request failed when no response came or the status was 400 or more. */
export function isFailure(sample: Pick<LoadSample, "status">): boolean {
  return sample.status === 0 || sample.status >= 400;
}

export function summarise(samples: readonly LoadSample[]): LoadSummary {
  const byVersion: Record<string, number> = {};
  const byColour: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const failuresByKind: Record<string, number> = {};
  const count = (into: Record<string, number>, key: string) => {
    into[key] = (into[key] ?? 0) + 1;
  };
  let failed = 0;
  let total = 0;
  for (const s of samples) {
    total += s.latencyMs;
    if (s.version) count(byVersion, s.version);
    if (s.colour) count(byColour, s.colour);
    if (isFailure(s)) {
      failed += 1;
      count(errors, s.error ?? `HTTP ${s.status}`);
      count(failuresByKind, s.errorKind ?? (s.status === 0 ? "other" : "http"));
    }
  }
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    sent: samples.length,
    failed,
    byVersion,
    byColour,
    errors,
    failuresByKind,
    meanMs: samples.length === 0 ? 0 : total / samples.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? 0,
  };
}
