import { COLOURS, type Colour } from "../../colour.js";
import type { DerivedValues, MetricSource, SourceReading } from "../metric-source.js";

/** PromQL per derived metric; null leaves that metric unknown. {{colour}} and {{version}} are replaced. */
export interface PromQueries {
  readonly requestRate: string;
  readonly errorRate: string;
  readonly p50: string | null;
  readonly p95: string | null;
  readonly p99: string | null;
  readonly saturation: string | null;
}

export interface PromqlOptions {
  /** The Prometheus server, e.g. http://127.0.0.1:9090 */
  readonly url: string;
  readonly queries: PromQueries;
  readonly timeoutMs: number;
  /** The version a colour runs, for {{version}}; null when it runs nothing. */
  readonly versionOf: (colour: Colour) => string | null;
}

/** The Prometheus server could not answer a query; says which and what to check. */
export class PromqlError extends Error {
  constructor(query: string, detail: string) {
    super(
      `Prometheus query failed (${detail}): ${query}; check analysis.source.url and the query in cutover.yaml`,
    );
    this.name = "PromqlError";
  }
}

interface QueryAnswer {
  readonly status: string;
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: unknown;
  };
}

const KEYS = ["requestRate", "errorRate", "p50", "p95", "p99", "saturation"] as const;

/**
 * Reads each colour's numbers from a Prometheus server with instant queries, like Argo Rollouts'
 * AnalysisTemplate or Flagger's MetricTemplate. A query should give one number; an empty answer (no
 * data yet) or NaN leaves the metric unknown; several series are added up for requestRate and averaged
 * for the others.
 */
export class PromqlMetricSource implements MetricSource {
  readonly kind = "prometheus";
  readonly #options: PromqlOptions;

  constructor(options: PromqlOptions) {
    this.#options = options;
  }

  async read(signal: AbortSignal): Promise<SourceReading> {
    const entries = await Promise.all(
      COLOURS.map(async (colour) => [colour, await this.#colour(colour, signal)] as const),
    );
    return { kind: "derived", values: Object.fromEntries(entries) as Record<Colour, DerivedValues | null> };
  }

  async #colour(colour: Colour, signal: AbortSignal): Promise<DerivedValues> {
    const version = this.#options.versionOf(colour) ?? "";
    const values = await Promise.all(
      KEYS.map((key) => {
        const template = this.#options.queries[key];
        if (template === null) return null;
        const query = template.replaceAll("{{colour}}", colour).replaceAll("{{version}}", version);
        return this.query(query, signal).then((vs) => combine(key, vs));
      }),
    );
    const [requestRate, errorRate, p50, p95, p99, saturation] = values;
    return {
      requestRate: requestRate ?? null,
      errorRate: errorRate ?? null,
      p50: p50 ?? null,
      p95: p95 ?? null,
      p99: p99 ?? null,
      saturation: saturation ?? null,
    };
  }

  /** The finite numbers an instant query answers (one per series; a scalar is one). */
  async query(query: string, signal: AbortSignal): Promise<number[]> {
    const url = new URL("/api/v1/query", this.#options.url);
    url.searchParams.set("query", query);
    let answer: QueryAnswer;
    try {
      const { request } = await import("undici"); // loaded by the first query, not at start
      const response = await request(url, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      answer = (await response.body.json()) as QueryAnswer;
    } catch (error) {
      throw new PromqlError(query, error instanceof Error ? error.message : String(error));
    }
    if (answer.status !== "success" || answer.data === undefined) {
      throw new PromqlError(query, answer.error ?? `status ${answer.status}`);
    }
    return numbers(answer.data.resultType, answer.data.result);
  }
}

function numbers(type: string, result: unknown): number[] {
  const value = (pair: unknown) => Number((pair as [number, string])[1]);
  let all: number[] = [];
  if (type === "scalar") all = [value(result)];
  else if (type === "vector" && Array.isArray(result))
    all = result.map((r) => value((r as { value: unknown }).value));
  return all.filter((v) => Number.isFinite(v));
}

function combine(key: (typeof KEYS)[number], values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const total = values.reduce((a, b) => a + b, 0);
  return key === "requestRate" ? total : total / values.length;
}
