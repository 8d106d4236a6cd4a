import { z } from "zod";
import { parseDuration } from "../duration.js";
import { duration } from "./duration-field.js";

/** What is measured per colour, per interval. Latencies are in seconds, error rate and saturation 0..1. */
export const METRIC_NAMES = ["requestRate", "errorRate", "p50", "p95", "p99", "saturation"] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
const metricName = z.enum(METRIC_NAMES);

const routerSource = z
  .strictObject({ type: z.literal("router") })
  .meta({ description: "The router's own per-colour metrics (no instrumentation needed); the default." });

const scrapeSource = z
  .strictObject({
    type: z.literal("scrape"),
    path: z.string().startsWith("/", "expected a path starting with /").default("/metrics"),
    format: z.enum(["auto", "prometheus", "json"]).default("auto").meta({
      description:
        'Prometheus text exposition, or JSON {"requests_total","errors_total","latency_seconds","version"}; auto tells them apart.',
    }),
    requests: z.string().default("http_requests_total").meta({ description: "Counter of requests served." }),
    errors: z.string().nullable().default(null).meta({
      description: "Counter of failed requests; null counts requests whose status (or code) label is 5xx.",
    }),
    latency: z
      .string()
      .default("http_request_duration_seconds")
      .meta({ description: "Histogram (or summary) of request latency in seconds." }),
    saturation: z.string().nullable().default(null).meta({ description: "A gauge of saturation, if any." }),
    labels: z.record(z.string(), z.string()).default({}).meta({
      description:
        'Keep only series with these label values, e.g. { path: "/" } (series without the label are kept).',
    }),
    timeout: duration("2s"),
  })
  .meta({ description: "Scrape each replica's own metrics endpoint directly." });

const DEFAULT_QUERIES = {
  requestRate: 'sum(rate(http_requests_total{environment="{{colour}}"}[30s]))',
  errorRate:
    '(sum(rate(http_requests_total{environment="{{colour}}",status=~"5.."}[30s])) or vector(0)) / sum(rate(http_requests_total{environment="{{colour}}"}[30s]))',
  p50: 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{environment="{{colour}}"}[30s])))',
  p95: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{environment="{{colour}}"}[30s])))',
  p99: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{environment="{{colour}}"}[30s])))',
} as const;

const prometheusSource = z
  .strictObject({
    type: z.literal("prometheus"),
    url: z.url().meta({ description: "The Prometheus server, e.g. http://127.0.0.1:9090" }),
    queries: z
      .strictObject({
        requestRate: z.string().default(DEFAULT_QUERIES.requestRate),
        errorRate: z.string().default(DEFAULT_QUERIES.errorRate),
        p50: z.string().nullable().default(DEFAULT_QUERIES.p50),
        p95: z.string().nullable().default(DEFAULT_QUERIES.p95),
        p99: z.string().nullable().default(DEFAULT_QUERIES.p99),
        saturation: z.string().nullable().default(null),
      })
      .prefault({})
      .meta({
        description:
          "PromQL instant queries, each giving one number; {{colour}} and {{version}} are replaced. Latencies in seconds, errorRate 0..1.",
      }),
    timeout: duration("5s"),
  })
  .meta({ description: "A Prometheus server, through its HTTP API (like Argo's AnalysisTemplate)." });

export const metricSourceSchema = z
  .discriminatedUnion("type", [routerSource, scrapeSource, prometheusSource])
  .default({ type: "router" });

const conditionSchema = z
  .strictObject({
    metric: metricName,
    max: z
      .number()
      .min(0)
      .optional()
      .meta({ description: "Absolute: the metric must stay at or below this." }),
    min: z
      .number()
      .min(0)
      .optional()
      .meta({ description: "Absolute: the metric must stay at or above this." }),
    maxRatio: z.number().positive().optional().meta({
      description: "Relative: the metric must stay at or below this many times the old colour's (e.g. 1.2).",
    }),
  })
  .refine((c) => c.max !== undefined || c.min !== undefined || c.maxRatio !== undefined, {
    message: "expected max, min or maxRatio",
  })
  .meta({
    description:
      "A check at every measurement, e.g. { metric: errorRate, max: 0.01 } or { metric: p99, maxRatio: 1.2 }.",
  });

const judgedMetricSchema = z.strictObject({
  metric: metricName,
  weight: z.number().positive().default(1),
  direction: z
    .enum(["increase", "decrease", "either"])
    .default("increase")
    .meta({ description: "Which change is bad: increase (latency, errors), decrease, or either." }),
  critical: z
    .boolean()
    .default(false)
    .meta({ description: "High (or Low) on this metric fails the deploy alone." }),
});

const judgeSchema = z
  .strictObject({
    confidence: z.number().gt(0.5).lt(1).default(0.98).meta({ description: "Of the Mann-Whitney U test." }),
    tolerance: z.number().min(0).default(0.25).meta({
      description: "The confidence interval of the shift must clear this fraction of the estimate (Kayenta).",
    }),
    allowedIncrease: z.number().min(1).default(1.1).meta({
      description: "Effect size (mean ratio new/old) below which a significant increase still passes.",
    }),
    allowedDecrease: z.number().gt(0).max(1).default(0.9),
    minSamples: z.int().min(3).default(5).meta({
      description:
        "Intervals with traffic each colour needs before the judge speaks; fewer gives Inconclusive.",
    }),
    minSampleRequests: z
      .int()
      .min(1)
      .default(5)
      .meta({ description: "Requests an interval needs to count as a sample of a colour." }),
    pass: z
      .number()
      .min(0)
      .max(100)
      .default(75)
      .meta({ description: "Score at or above which the verdict is Pass." }),
    marginal: z
      .number()
      .min(0)
      .max(100)
      .default(50)
      .meta({ description: "Score at or above which the verdict is Marginal; below is Fail." }),
    metrics: z
      .array(judgedMetricSchema)
      .min(1)
      .default([
        { metric: "errorRate", weight: 40, direction: "increase", critical: true },
        { metric: "p99", weight: 30, direction: "increase", critical: false },
        { metric: "p50", weight: 30, direction: "increase", critical: false },
      ]),
  })
  .prefault({})
  .meta({ description: "Kayenta-style comparison of the new colour against the old one." });

const mirrorSchema = z
  .strictObject({
    share: z.number().min(0).max(1).default(0).meta({
      description:
        "Share of live idempotent requests copied to the other colour (0: off); their answers are discarded.",
    }),
    maxPerSecond: z.number().positive().optional().meta({
      description:
        "Copies a second at most, evenly spread, whatever the share: bounds what shadow traffic costs at high load while low traffic is still copied at `share`.",
    }),
    methods: z
      .array(z.enum(["GET", "HEAD", "OPTIONS"]))
      .min(1)
      .default(["GET", "HEAD"])
      .meta({ description: "Methods mirrored; requests with a body never are." }),
    queue: z
      .int()
      .min(1)
      .default(256)
      .meta({ description: "Mirrored requests in flight at most; more are dropped." }),
    timeout: duration("5s"),
  })
  .prefault({})
  .meta({
    description: "Shadow traffic: before the switch to the new colour, after it back to the old one.",
  });

const webhookSchema = z.strictObject({
  url: z.url(),
  format: z.enum(["json", "slack"]).default("json"),
  events: z
    .array(z.enum(["verdict", "rollback", "failure"]))
    .min(1)
    .default(["verdict", "rollback", "failure"]),
  timeout: duration("5s"),
  retries: z.int().min(0).max(10).default(3).meta({ description: "Attempts after the first, with backoff." }),
});

export const analysisSchema = z
  .strictObject({
    source: metricSourceSchema,
    interval: duration("5s").meta({ description: "Time between measurements; one sample per colour each." }),
    count: z.int().min(1).optional().meta({ description: "Measurements per analysis (or give window)." }),
    window: z
      .union([z.string(), z.number()])
      .optional()
      .meta({ description: 'How long each analysis runs, e.g. "2m" (count = window / interval).' }),
    initialDelay: duration("0s").meta({ description: "Wait before the first measurement." }),
    lookback: duration("30s").meta({ description: "Span of samples each condition is checked on." }),
    minRequests: z.int().min(1).default(50).meta({
      description:
        "Requests a colour needs in the lookback for a measurement to say anything; fewer: inconclusive.",
    }),
    failureLimit: z
      .int()
      .min(0)
      .default(0)
      .meta({ description: "Failed measurements tolerated; one more fails." }),
    inconclusiveLimit: z.int().min(0).nullable().default(null).meta({
      description: "Inconclusive measurements tolerated; null: no limit (the judge decides at the end).",
    }),
    conditions: z.array(conditionSchema).default([{ metric: "errorRate", max: 0.01 }]),
    judge: judgeSchema,
    preSwitch: z.boolean().default(true).meta({
      description:
        "Judge the new colour before the switch: locally on mirrored traffic (needs mirror.share > 0); on Kubernetes on what reaches the preview Service (skipped when fewer than minRequests do).",
    }),
    mirror: mirrorSchema,
    keepFailedColour: z
      .boolean()
      .default(true)
      .meta({ description: "After an automatic rollback, keep the failed colour running for inspection." }),
    webhooks: z.array(webhookSchema).default([]),
    report: z
      .strictObject({
        enabled: z.boolean().default(true),
        dir: z.string().nullable().default(null).meta({
          description: "Where reports go, relative to cutover.yaml; null: <stateDir>/reports.",
        }),
      })
      .prefault({}),
  })
  .transform((a, ctx) => {
    if (a.count !== undefined && a.window !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: "give count or window, not both",
        path: ["window"],
        input: a.window,
      });
      return z.NEVER;
    }
    let count = a.count ?? 12;
    if (a.window !== undefined) {
      const ms = parseDuration(a.window);
      if (ms === undefined || ms < a.interval) {
        ctx.addIssue({
          code: "custom",
          message: 'expected a duration of at least one interval, such as "1m"',
          path: ["window"],
          input: a.window,
        });
        return z.NEVER;
      }
      count = Math.floor(ms / a.interval);
    }
    if (a.judge.marginal > a.judge.pass) {
      ctx.addIssue({
        code: "custom",
        message: "judge.marginal must not exceed judge.pass",
        path: ["judge", "marginal"],
        input: a.judge.marginal,
      });
      return z.NEVER;
    }
    const { window: _window, ...rest } = a;
    return { ...rest, count };
  })
  .optional()
  .meta({ description: "Metrics, the judge of green against blue, automatic rollback, alerts and reports." });

export type AnalysisConfig = NonNullable<z.output<typeof analysisSchema>>;
export type MetricSourceConfig = AnalysisConfig["source"];
export type ConditionConfig = AnalysisConfig["conditions"][number];
export type JudgeConfig = AnalysisConfig["judge"];
export type JudgedMetricConfig = JudgeConfig["metrics"][number];
export type MirrorConfig = AnalysisConfig["mirror"];
export type WebhookConfig = AnalysisConfig["webhooks"][number];

/** The analysis section with every default, for code and tests that build one without YAML. */
export function analysisConfig(input: Record<string, unknown> = {}): AnalysisConfig {
  const parsed = analysisSchema.parse(input);
  if (parsed === undefined) throw new Error("unreachable: an object always parses to a config");
  return parsed;
}
