import { describe, expect, it } from "vitest";
import { histogramQuantile } from "../../src/analysis/histogram-quantile.js";
import { PromTextError, parsePrometheusText } from "../../src/analysis/prometheus-text.js";
import { countersFromText } from "../../src/analysis/sources/counters-from-text.js";

const EXPOSITION = `# HELP http_requests_total Requests served
# TYPE http_requests_total counter
http_requests_total{path="/",status="200",version="1.0.0",environment="blue"} 90
http_requests_total{path="/",status="500",version="1.0.0",environment="blue"} 10
http_requests_total{path="/health",status="200",version="1.0.0",environment="blue"} 1000
# HELP http_request_duration_seconds Request latency
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.01",path="/"} 50
http_request_duration_seconds_bucket{le="0.1",path="/"} 90
http_request_duration_seconds_bucket{le="+Inf",path="/"} 100
http_request_duration_seconds_sum{path="/"} 3.2
http_request_duration_seconds_count{path="/"} 100
http_request_duration_seconds_bucket{le="0.01",path="/health"} 1000
http_request_duration_seconds_bucket{le="0.1",path="/health"} 1000
http_request_duration_seconds_bucket{le="+Inf",path="/health"} 1000
# TYPE rpc_latency summary
rpc_latency{quantile="0.5"} 0.012
rpc_latency{quantile="0.99"} 0.2
rpc_latency_sum 12.5
rpc_latency_count 1000
# TYPE pool_saturation gauge
pool_saturation 0.25
weird_label{msg="a \\"quoted\\" \\\\ back\\nslash"} NaN 1700000000000
untyped_thing +Inf
`;

describe("Prometheus text exposition parser", () => {
  it("groups histogram and summary lines into their families and reads every value form", () => {
    const families = parsePrometheusText(EXPOSITION);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(byName.get("http_requests_total")?.type).toBe("counter");
    expect(byName.get("http_requests_total")?.help).toBe("Requests served");
    expect(byName.get("http_request_duration_seconds")?.type).toBe("histogram");
    expect(byName.get("http_request_duration_seconds")?.samples).toHaveLength(8);
    expect(byName.get("rpc_latency")?.samples).toHaveLength(4);
    expect(byName.get("pool_saturation")?.samples[0]?.value).toBe(0.25);
    const weird = byName.get("weird_label")?.samples[0];
    expect(weird?.labels.msg).toBe('a "quoted" \\ back\nslash');
    expect(Number.isNaN(weird?.value)).toBe(true);
    expect(byName.get("untyped_thing")?.type).toBe("untyped");
    expect(byName.get("untyped_thing")?.samples[0]?.value).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses a line that is not exposition text, naming the line", () => {
    expect(() => parsePrometheusText("ok 1\n<html>")).toThrow(PromTextError);
    expect(() => parsePrometheusText('bad{label="x} 1')).toThrow(/line 1: unterminated/);
    expect(() => parsePrometheusText("metric notanumber")).toThrow(/line 1: expected a number/);
  });

  it("selects requests, 5xx errors and the latency histogram by name and label filter", () => {
    const counters = countersFromText(EXPOSITION, {
      requests: "http_requests",
      errors: null,
      latency: "http_request_duration_seconds",
      saturation: "pool_saturation",
      labels: { path: "/" },
    });
    expect(counters.requests).toBe(100);
    expect(counters.errors).toBe(10);
    expect(counters.buckets).toEqual([
      { le: 0.01, count: 50 },
      { le: 0.1, count: 90 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ]);
    expect(counters.saturation).toBe(0.25);
    const summary = countersFromText(EXPOSITION, {
      requests: "http_requests_total",
      errors: null,
      latency: "rpc_latency",
      saturation: null,
      labels: {},
    });
    expect(summary.quantiles).toEqual({ p50: 0.012, p95: null, p99: 0.2 });
  });

  it("computes quantiles from cumulative buckets as histogram_quantile does", () => {
    const buckets = [
      { le: 0.01, count: 50 },
      { le: 0.1, count: 90 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.01, 10);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.01 + 0.09 * 0.5, 10);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.005, 10);
    // A rank in the +Inf bucket answers the highest finite bound, like Prometheus.
    expect(histogramQuantile(0.99, buckets)).toBe(0.1);
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }])).toBeNull();
    expect(histogramQuantile(0.5, [])).toBeNull();
  });
});
