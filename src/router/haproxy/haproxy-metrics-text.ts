import { COLOURS, type Colour } from "../../colour.js";
import { type HaproxyStats, STATUS_CLASSES } from "./haproxy-stats.js";

export const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

export interface HaproxyMetricsState {
  readonly stats: HaproxyStats;
  readonly active: Colour;
  readonly switches: number;
}

/**
 * HAProxy's per-colour counters in the Prometheus text format, under the built-in router's metric names,
 * so the router metric source of the analysis reads either data plane. HAProxy counts responses by class
 * (status="2xx", "5xx", ...), not by exact status, and keeps no latency histogram: its average time over
 * the last 1024 requests is exported as a gauge instead.
 */
export function haproxyMetricsText({ stats, active, switches }: HaproxyMetricsState): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, samples: readonly string[]) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  family(
    "cutover_requests_total",
    "counter",
    "Responses HAProxy sent, by colour and status class (live and preview backends, since HAProxy started)",
    COLOURS.flatMap((colour) =>
      STATUS_CLASSES.map(
        (status) =>
          `cutover_requests_total{colour="${colour}",status="${status}"} ${stats[colour].responses[status]}`,
      ),
    ),
  );
  family(
    "cutover_upstream_errors_total",
    "counter",
    "Failed connections to replicas and responses that broke off, by colour",
    COLOURS.map(
      (colour) => `cutover_upstream_errors_total{colour="${colour}"} ${stats[colour].upstreamErrors}`,
    ),
  );
  family(
    "cutover_in_flight",
    "gauge",
    "Requests and WebSockets in flight, by colour",
    COLOURS.map((colour) => `cutover_in_flight{colour="${colour}"} ${stats[colour].inFlight}`),
  );
  family(
    "cutover_active_colour",
    "gauge",
    "1 for the colour that serves traffic, 0 for the other",
    COLOURS.map((colour) => `cutover_active_colour{colour="${colour}"} ${colour === active ? 1 : 0}`),
  );
  family(
    "cutover_average_request_seconds",
    "gauge",
    "HAProxy's average total time of the last 1024 requests of the colour's live backend",
    COLOURS.map(
      (colour) =>
        `cutover_average_request_seconds{colour="${colour}"} ${stats[colour].averageTotalMs / 1000}`,
    ),
  );
  family("cutover_switches_total", "counter", "Times the active colour changed", [
    `cutover_switches_total ${switches}`,
  ]);
  return `${lines.join("\n")}\n`;
}
