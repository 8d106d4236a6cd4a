import type { Metric, Registry } from "prom-client";
import { COLOURS, type Colour } from "../colour.js";

/** One exported sample, in the shape prom-client's registry formats. */
interface HistogramSample {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly value: number;
  readonly metricName: string;
  /** Buckets carry prom-client's (absent) exemplar. */
  readonly exemplar?: null;
}

interface HistogramExport {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  readonly aggregator: "sum";
  readonly values: HistogramSample[];
}

/**
 * A Prometheus histogram labelled by colour, kept in plain arrays: observe() bumps two numbers and
 * prom-client only sees the buckets at scrape time (its own Histogram hashes labels on every observation).
 * Registered in a prom-client registry, it prints exactly as a prom-client Histogram would.
 */
export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  /** Per colour: one count per bucket (not cumulative), one past the last bound (+Inf), then the sum. */
  readonly #slots: Readonly<Record<Colour, Float64Array>>;

  constructor(name: string, help: string, bounds: readonly number[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.#bounds = [...bounds];
    this.#slots = {
      blue: new Float64Array(bounds.length + 2),
      green: new Float64Array(bounds.length + 2),
    };
    registry.registerMetric(this as unknown as Metric);
  }

  observe(colour: Colour, seconds: number): void {
    const slots = this.#slots[colour];
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
    slots[bucket] = (slots[bucket] as number) + 1;
    const sum = bounds.length + 1;
    slots[sum] = (slots[sum] as number) + seconds;
  }

  reset(): void {
    for (const colour of COLOURS) this.#slots[colour].fill(0);
  }

  /** What prom-client's registry prints (labels split as its Histogram splits them). */
  getForPromString(): Promise<HistogramExport> {
    const values: HistogramSample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const colour of COLOURS) {
      const slots = this.#slots[colour];
      const overflow = this.#bounds.length;
      let count = 0;
      for (let i = 0; i <= overflow; i++) count += slots[i] as number;
      if (count === 0) continue;
      const sharedLabels = { colour };
      let cumulative = 0;
      for (let i = 0; i < overflow; i++) {
        cumulative += slots[i] as number;
        const le = this.#bounds[i] as number;
        values.push({
          labels: { le },
          sharedLabels,
          value: cumulative,
          metricName: bucketName,
          exemplar: null,
        });
      }
      values.push({
        labels: { le: "+Inf" },
        sharedLabels,
        value: count,
        metricName: bucketName,
        exemplar: null,
      });
      const sum = slots[overflow + 1] as number;
      values.push({ labels: {}, sharedLabels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: "histogram",
      aggregator: "sum",
      values,
    });
  }

  /** The same samples with the colour merged into each sample's labels (prom-client's JSON shape). */
  async get(): Promise<HistogramExport> {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...sample }) => ({
        ...sample,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }
}
