import type { Quantiles } from "../metric-source.js";
import type { Counters } from "./counters-from-text.js";

/** The simple JSON some services expose instead of Prometheus text. */
export interface JsonMetrics {
  readonly requests_total: number;
  readonly errors_total?: number;
  /** One number (taken as the median), or quantiles: { "p50": s, "p95": s, "p99": s }. */
  readonly latency_seconds?: number | Readonly<Record<string, number>>;
  readonly saturation?: number;
  readonly version?: string;
}

/** A JSON metrics body that does not have the expected shape. */
export class JsonMetricsError extends Error {
  constructor(detail: string) {
    super(
      `metrics JSON ${detail}; expected {"requests_total": n, "errors_total": n, "latency_seconds": s or {"p50","p95","p99"}, "version": "..."}`,
    );
    this.name = "JsonMetricsError";
  }
}

export function countersFromJson(text: string): Counters {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new JsonMetricsError("is not valid JSON");
  }
  if (typeof body !== "object" || body === null) throw new JsonMetricsError("is not an object");
  const metrics = body as Partial<JsonMetrics>;
  if (typeof metrics.requests_total !== "number") throw new JsonMetricsError("has no numeric requests_total");
  return {
    requests: metrics.requests_total,
    errors: typeof metrics.errors_total === "number" ? metrics.errors_total : 0,
    buckets: [],
    quantiles: quantiles(metrics.latency_seconds),
    saturation: typeof metrics.saturation === "number" ? metrics.saturation : null,
  };
}

function quantiles(latency: JsonMetrics["latency_seconds"]): Quantiles | null {
  if (typeof latency === "number") return { p50: latency, p95: null, p99: null };
  if (typeof latency !== "object" || latency === null) return null;
  const pick = (...keys: string[]) => {
    for (const key of keys) if (typeof latency[key] === "number") return latency[key] as number;
    return null;
  };
  return { p50: pick("p50", "0.5"), p95: pick("p95", "0.95"), p99: pick("p99", "0.99") };
}
