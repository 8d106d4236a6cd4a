import type { MetricName } from "../config/analysis-schema.js";

/** A metric's value for people: percent for error rate, milliseconds for latencies. */
export function formatMetric(metric: MetricName, value: number | null): string {
  if (value === null) return "n/a";
  if (metric === "errorRate") return `${(value * 100).toFixed(1)}%`;
  if (metric === "requestRate") return `${value.toFixed(1)}/s`;
  if (metric === "saturation") return value.toFixed(2);
  return `${(value * 1000).toFixed(1)}ms`;
}
