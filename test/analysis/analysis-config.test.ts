import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";

const base = "service: shop\nversion: 1.0.0\nstart:\n  command: node server.js\n";

function problems(text: string): readonly string[] {
  try {
    parseConfig(text, "/tmp/cutover.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("analysis: in cutover.yaml", () => {
  it("is off without the section, and fills every default with an empty one", () => {
    expect(parseConfig(base, "/srv/shop/cutover.yaml").config.analysis).toBeUndefined();
    const analysis = parseConfig(`${base}analysis: {}\n`, "/srv/shop/cutover.yaml").config.analysis;
    expect(analysis).toMatchObject({
      source: { type: "router" },
      interval: 5_000,
      count: 12,
      initialDelay: 0,
      lookback: 30_000,
      failureLimit: 0,
      inconclusiveLimit: null,
      conditions: [{ metric: "errorRate", max: 0.01 }],
      judge: {
        confidence: 0.98,
        tolerance: 0.25,
        allowedIncrease: 1.1,
        minSamples: 5,
        pass: 75,
        marginal: 50,
      },
      mirror: { share: 0, methods: ["GET", "HEAD"], queue: 256, timeout: 5_000 },
      keepFailedColour: true,
      webhooks: [],
      report: { enabled: true, dir: null },
    });
    expect(analysis?.judge.metrics.map((m) => m.metric)).toEqual(["errorRate", "p99", "p50"]);
  });

  it("reads the documented example", () => {
    const analysis = parseConfig(
      `${base}analysis:
  source:
    type: prometheus
    url: http://127.0.0.1:9090
    queries:
      p99: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{environment="{{colour}}"}[1m])))
  interval: 10s
  window: 2m
  initialDelay: 20s
  failureLimit: 1
  inconclusiveLimit: 3
  conditions:
    - { metric: errorRate, max: 0.01 }
    - { metric: p99, maxRatio: 1.2 }
  judge: { confidence: 0.95, metrics: [{ metric: p99, weight: 2, critical: true }, { metric: errorRate }] }
  mirror: { share: 1, maxPerSecond: 50, methods: [GET] }
  webhooks:
    - { url: https://hooks.slack.com/services/T/B/X, format: slack }
    - { url: http://alerts.internal/cutover, events: [rollback, failure], retries: 5 }
  report: { dir: reports }
`,
      "/srv/shop/cutover.yaml",
    ).config.analysis;
    expect(analysis?.count).toBe(12);
    expect(analysis?.interval).toBe(10_000);
    expect(analysis?.source.type).toBe("prometheus");
    if (analysis?.source.type === "prometheus") {
      expect(analysis.source.queries.requestRate).toContain("{{colour}}");
      expect(analysis.source.queries.p99).toContain("[1m]");
    }
    expect(analysis?.mirror).toMatchObject({ share: 1, maxPerSecond: 50, methods: ["GET"], queue: 256 });
    expect(analysis?.webhooks[1]).toMatchObject({ format: "json", retries: 5, timeout: 5_000 });
  });

  it("refuses mistakes with one line each", () => {
    expect(problems(`${base}analysis:\n  interval: soon\n`)).toEqual([
      'analysis.interval: expected a duration such as "500ms", "2s" or "1m"; got "soon"',
    ]);
    expect(problems(`${base}analysis:\n  count: 3\n  window: 1m\n`)).toEqual([
      'analysis.window: give count or window, not both; got "1m"',
    ]);
    expect(problems(`${base}analysis:\n  conditions: [{ metric: p99 }]\n`)[0]).toContain(
      "expected max, min or maxRatio",
    );
    expect(problems(`${base}analysis:\n  source: { type: graphite }\n`)[0]).toMatch(
      /^analysis\.source\.type/,
    );
    expect(problems(`${base}analysis:\n  mirror: { share: 2 }\n`)[0]).toMatch(/^analysis\.mirror\.share/);
    expect(problems(`${base}analysis:\n  mirror: { maxPerSecond: 0 }\n`)[0]).toMatch(
      /^analysis\.mirror\.maxPerSecond: .*got 0/,
    );
    expect(problems(`${base}analysis:\n  judge: { pass: 40, marginal: 60 }\n`)).toEqual([
      "analysis.judge.marginal: judge.marginal must not exceed judge.pass; got 60",
    ]);
    expect(problems(`${base}analysis:\n  webhok: []\n`)[0]).toContain('unknown field "webhok"');
  });

  it("appears in the JSON Schema for editors", () => {
    const schema = JSON.stringify(configJsonSchema());
    expect(schema).toContain("Kayenta-style comparison");
    expect(schema).toContain("Shadow traffic");
  });
});
