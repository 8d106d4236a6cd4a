import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { type ProbeThresholds, ProbeVerdict } from "./probe-verdict.js";

export interface ProbeSettings extends ProbeThresholds {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** One probe's outcome: passed on a 2xx or 3xx answer within the timeout. */
export interface ProbeResult {
  readonly passed: boolean;
  /** "HTTP 200", "HTTP 503", "timed out after 1000ms", "ECONNREFUSED". */
  readonly detail: string;
}

export interface RegionProberOptions {
  /** The region's endpoint joined with the probe's path. */
  readonly url: string;
  readonly settings: ProbeSettings;
  /** Hears every probe: the verdict after it, and whether the probe changed it. */
  readonly onProbe: (healthy: boolean | null, result: ProbeResult, changed: boolean) => void;
}

/**
 * Probes one region's endpoint every interval (from the start of one probe to the start of the next; a
 * probe is never sent while the previous one runs), and keeps the verdict by the thresholds.
 */
export class RegionProber {
  readonly #options: RegionProberOptions;
  readonly #verdict: ProbeVerdict;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(options: RegionProberOptions) {
    this.#options = options;
    this.#verdict = new ProbeVerdict(options.settings);
  }

  get healthy(): boolean | null {
    return this.#verdict.healthy;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { url, settings, onProbe } = this.#options;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const started = performance.now();
      const result = await probeOnce(url, settings.timeoutMs, signal);
      if (signal.aborted) return;
      const changed = this.#verdict.record(result.passed);
      onProbe(this.#verdict.healthy, result, changed);
      const wait = settings.intervalMs - (performance.now() - started);
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** GETs `url` once; never throws. */
export async function probeOnce(url: string, timeoutMs: number, stop?: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      redirect: "manual",
      headers: { "user-agent": "cutover-global-front" },
      signal: stop === undefined ? timeout : AbortSignal.any([timeout, stop]),
    });
    await response.body?.cancel();
    return { passed: response.status >= 200 && response.status < 400, detail: `HTTP ${response.status}` };
  } catch (error) {
    if (timeout.aborted) return { passed: false, detail: `timed out after ${timeoutMs}ms` };
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    return { passed: false, detail: typeof cause === "string" ? cause : (error as Error).message };
  }
}
