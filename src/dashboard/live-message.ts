import type { SampleTick } from "../analysis/colour-sample.js";
import type { Colour } from "../colour.js";
import type { DeployRecord } from "../engine/lifecycle.js";
import type { ServiceStatus } from "../engine/service-status.js";

/** One colour's numbers over one sampler interval, as the page charts them. Latencies in seconds. */
export interface LivePoint {
  readonly requests: number;
  readonly rate: number;
  /** 0..1; null without requests. */
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
}

/** One sampler tick, without the histograms the page does not need. */
export interface LiveTick {
  /** End of the interval, epoch milliseconds. */
  readonly at: number;
  readonly colours: Readonly<Record<Colour, LivePoint>>;
}

/** Where users and people reach the service; the preview address serves the idle colour. */
export interface LiveAddresses {
  readonly live: string | null;
  readonly preview: string | null;
}

/** Report files per deploy id (names only; fetched through GET /dashboard-api/report). */
export type ReportIndex = Readonly<Record<string, readonly string[]>>;

/**
 * What GET /dashboard-api/live streams, one JSON object per line: a snapshot first, then changes.
 * The page needs nothing else to draw itself.
 */
export type LiveMessage =
  | {
      readonly type: "hello";
      readonly at: number;
      readonly status: ServiceStatus;
      readonly history: readonly DeployRecord[];
      readonly reports: ReportIndex;
      readonly ticks: readonly LiveTick[];
      /** The sampler's interval; null when the daemon runs no sampler (no charts). */
      readonly intervalMs: number | null;
      readonly addresses: LiveAddresses;
    }
  | { readonly type: "status"; readonly status: ServiceStatus }
  | { readonly type: "deploy"; readonly record: DeployRecord }
  | { readonly type: "history"; readonly history: readonly DeployRecord[]; readonly reports: ReportIndex }
  | { readonly type: "tick"; readonly tick: LiveTick }
  | { readonly type: "ping"; readonly at: number };

export function toLiveTick(tick: SampleTick): LiveTick {
  const point = (colour: Colour): LivePoint => {
    const s = tick.samples[colour];
    return { requests: s.requests, rate: s.requestRate, errorRate: s.errorRate, p50: s.p50, p99: s.p99 };
  };
  return { at: tick.at, colours: { blue: point("blue"), green: point("green") } };
}
