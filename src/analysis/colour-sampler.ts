import { type Logger, pino } from "pino";
import type { Colour } from "../colour.js";
import type { ColourSample, SampleTick } from "./colour-sample.js";
import { IntervalSamples } from "./interval-samples.js";
import type { MetricSource } from "./metric-source.js";

export interface ColourSamplerOptions {
  readonly source: MetricSource;
  readonly intervalMs: number;
  /** Ticks kept for recent(); older ones are dropped. Default: 10 minutes' worth. */
  readonly keep?: number;
  readonly logger?: Logger;
}

export type TickListener = (tick: SampleTick) => void;

/**
 * Reads a metric source every interval and derives, per colour, the request rate, error rate, latency
 * p50/p95/p99 and saturation of that interval. Listeners get every tick (the analysis, the deploy
 * journal, the dashboard's live charts); the last `keep` ticks stay available through recent().
 * A reading that fails is logged and skipped: the next tick covers the longer interval.
 */
export class ColourSampler {
  readonly intervalMs: number;
  readonly #source: MetricSource;
  readonly #keep: number;
  readonly #log: Logger;
  readonly #intervals = new IntervalSamples();
  readonly #listeners = new Set<TickListener>();
  #ticks: SampleTick[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** Callers waiting in nextTick(). */
  #waiting = 0;
  #reading: AbortController | null = null;
  #lastError: string | null = null;

  constructor(options: ColourSamplerOptions) {
    this.intervalMs = options.intervalMs;
    this.#source = options.source;
    this.#keep = options.keep ?? Math.max(10, Math.ceil(600_000 / options.intervalMs));
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "sampler" });
  }

  /** Where the readings come from. */
  get source(): MetricSource {
    return this.#source;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** Why the last reading failed, or null when it worked. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** Takes a first reading now, then one every interval. */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => void this.#read(), this.intervalMs);
    if (this.#waiting === 0) this.#timer.unref();
    void this.#read();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#reading?.abort();
  }

  /** Calls `listener` with every tick from now on. Returns the unsubscribe function. */
  onTick(listener: TickListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Recent ticks, oldest first; `sinceMs` keeps those that end after it. */
  recent(sinceMs = 0): readonly SampleTick[] {
    return sinceMs <= 0 ? [...this.#ticks] : this.#ticks.filter((tick) => tick.at > sinceMs);
  }

  /** Recent samples of one colour, oldest first. */
  samples(colour: Colour, sinceMs = 0): readonly ColourSample[] {
    return this.recent(sinceMs).map((tick) => tick.samples[colour]);
  }

  /**
   * The next tick. Rejects with the signal's reason when it is aborted first. While somebody waits, the
   * sampler keeps the process alive (a CLI process with nothing else to do, on Kubernetes); otherwise it
   * never does (the daemon's sampler runs for the dashboard, and must not hold a stopping process).
   */
  nextTick(signal: AbortSignal): Promise<SampleTick> {
    this.#hold(1);
    return new Promise<SampleTick>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        off();
        reject(signal.reason);
      };
      const off = this.onTick((tick) => {
        signal.removeEventListener("abort", onAbort);
        off();
        resolve(tick);
      });
      signal.addEventListener("abort", onAbort, { once: true });
    }).finally(() => this.#hold(-1));
  }

  #hold(change: 1 | -1): void {
    this.#waiting += change;
    if (this.#waiting > 0) this.#timer?.ref();
    else this.#timer?.unref();
  }

  async #read(): Promise<void> {
    if (this.#reading !== null) return; // the previous reading is still running: skip this beat
    const controller = new AbortController();
    this.#reading = controller;
    const timeout = setTimeout(
      () => controller.abort(new Error("timed out")),
      Math.max(this.intervalMs * 2, 2_000),
    );
    try {
      const reading = await this.#source.read(controller.signal);
      const samples = this.#intervals.next(reading, Date.now());
      this.#lastError = null;
      if (samples !== null && this.#timer !== null) this.#emit({ at: samples.blue.at, samples });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.#lastError !== message)
        this.#log.warn({ source: this.#source.kind, err: message }, "metrics read failed");
      this.#lastError = message;
    } finally {
      clearTimeout(timeout);
      this.#reading = null;
    }
  }

  #emit(tick: SampleTick): void {
    this.#ticks.push(tick);
    if (this.#ticks.length > this.#keep) this.#ticks = this.#ticks.slice(-this.#keep);
    for (const listener of this.#listeners) {
      try {
        listener(tick);
      } catch (error) {
        this.#log.error({ err: error }, "a sample listener threw");
      }
    }
  }
}
