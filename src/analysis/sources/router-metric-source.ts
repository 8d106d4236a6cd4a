import { COLOURS } from "../../colour.js";
import type { CounterSeries, MetricSource, SourceReading } from "../metric-source.js";
import { type PromSample, parsePrometheusText } from "../prometheus-text.js";
import { countersFromSamples } from "./counters-from-text.js";

/** What the router source needs of the router: its Prometheus text. */
export interface RouterMetricsText {
  metrics(): Promise<string>;
}

/** The router's request series and, separately, the mirrored (shadow) copies each colour answered. */
const SERIES = [
  { key: "router", requests: "cutover_requests_total", latency: "cutover_request_duration_seconds" },
  {
    key: "mirror",
    requests: "cutover_mirror_requests_total",
    latency: "cutover_mirror_request_duration_seconds",
  },
] as const;

/**
 * The default source: the router's own per-colour metrics, so any service can be judged without
 * instrumentation. A colour's traffic is what it answered live plus the mirrored copies it answered.
 */
export class RouterMetricSource implements MetricSource {
  readonly kind = "router";
  readonly #router: RouterMetricsText;

  constructor(router: RouterMetricsText) {
    this.#router = router;
  }

  async read(): Promise<SourceReading> {
    const samples = parsePrometheusText(await this.#router.metrics()).flatMap((family) => family.samples);
    const series: CounterSeries[] = [];
    for (const colour of COLOURS) {
      const ofColour = samples.filter((s) => s.labels.colour === colour);
      for (const names of SERIES) series.push({ colour, key: names.key, ...counters(ofColour, names) });
    }
    return { kind: "counters", series };
  }
}

function counters(samples: readonly PromSample[], names: (typeof SERIES)[number]) {
  return countersFromSamples(samples, {
    requests: names.requests,
    errors: null,
    latency: names.latency,
    saturation: null,
    labels: {},
  });
}
