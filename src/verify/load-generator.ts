import { performance } from "node:perf_hooks";
import { Pool } from "undici";

/** One request the generator sent, and what came back. */
export interface LoadSample {
  /** Milliseconds since the epoch (Date.now(), the clock the daemon stamps its switch with). */
  readonly sentAt: number;
  readonly latencyMs: number;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** The version that answered (x-app-version header), if it said. */
  readonly version: string | null;
  /** The colour the router sent it to (x-cutover-colour header), if it said. */
  readonly colour: string | null;
  /** Why no response arrived: ECONNRESET, ECONNREFUSED, timeout, ... */
  readonly error: string | null;
}

export interface LoadOptions {
  readonly url: string;
  /** Concurrent keep-alive connections, each sending one request after another. */
  readonly connections: number;
  readonly path?: string;
  /** Hard bounds: the generator stops by itself at whichever comes first. */
  readonly maxDurationMs: number;
  readonly maxRequests: number;
  readonly timeoutMs?: number;
}

/** Closed-loop HTTP load on loopback: each connection sends its next request when the last one answered. */
export class LoadGenerator {
  readonly #o: LoadOptions;
  readonly #pool: Pool;
  readonly #samples: LoadSample[] = [];
  #running = false;
  #loops: Promise<void>[] = [];
  #deadline = 0;

  constructor(options: LoadOptions) {
    this.#o = options;
    this.#pool = new Pool(options.url, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs ?? 10_000,
      bodyTimeout: options.timeoutMs ?? 10_000,
    });
  }

  get samples(): readonly LoadSample[] {
    return this.#samples;
  }

  start(): void {
    this.#running = true;
    this.#deadline = Date.now() + this.#o.maxDurationMs;
    this.#loops = Array.from({ length: this.#o.connections }, () => this.#loop());
  }

  /** Stops sending, waits for the answers in flight, closes the connections. Safe to call again. */
  async stop(): Promise<LoadSample[]> {
    this.#running = false;
    await Promise.all(this.#loops);
    if (!this.#pool.closed) await this.#pool.close();
    return this.#samples;
  }

  async #loop(): Promise<void> {
    while (this.#running && Date.now() < this.#deadline && this.#samples.length < this.#o.maxRequests) {
      this.#samples.push(await this.#one());
    }
  }

  async #one(): Promise<LoadSample> {
    const sentAt = Date.now();
    const started = performance.now();
    try {
      const response = await this.#pool.request({ method: "GET", path: this.#o.path ?? "/" });
      await response.body.dump();
      const header = (name: string) => {
        const value = response.headers[name];
        return typeof value === "string" ? value : null;
      };
      return {
        sentAt,
        latencyMs: performance.now() - started,
        status: response.statusCode,
        version: header("x-app-version"),
        colour: header("x-cutover-colour"),
        error: null,
      };
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      return {
        sentAt,
        latencyMs: performance.now() - started,
        status: 0,
        version: null,
        colour: null,
        error: code,
      };
    }
  }
}

export interface LoadSummary {
  readonly sent: number;
  readonly failed: number;
  readonly byVersion: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Counts: a request failed when no response came or the status was not 2xx/3xx. */
export function summarise(samples: readonly LoadSample[]): LoadSummary {
  const byVersion: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let failed = 0;
  for (const s of samples) {
    if (s.version) byVersion[s.version] = (byVersion[s.version] ?? 0) + 1;
    if (s.status === 0 || s.status >= 400) {
      failed += 1;
      const kind = s.error ?? `HTTP ${s.status}`;
      errors[kind] = (errors[kind] ?? 0) + 1;
    }
  }
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    sent: samples.length,
    failed,
    byVersion,
    errors,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? 0,
  };
}
