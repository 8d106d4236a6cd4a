import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { ColourSampler } from "../../src/analysis/colour-sampler.js";
import { IntervalSamples } from "../../src/analysis/interval-samples.js";
import type { CounterSeries } from "../../src/analysis/metric-source.js";
import { RouterMetricSource } from "../../src/analysis/sources/router-metric-source.js";
import { ScrapeMetricSource, type ScrapeOptions } from "../../src/analysis/sources/scrape-metric-source.js";
import type { Colour } from "../../src/colour.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import { startDemoApp } from "../helpers/demo-app.js";
import { eventually } from "../helpers/eventually.js";
import { mainUrl, previewUrl, startRouter } from "../helpers/start-router.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SCRAPE: ScrapeOptions = {
  path: "/metrics",
  format: "auto",
  requests: "http_requests_total",
  errors: null,
  latency: "http_request_duration_seconds",
  saturation: null,
  labels: { path: "/" },
  timeoutMs: 2_000,
};

async function hit(url: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await (await request(url)).body.dump();
}

describe("metric sources", () => {
  it("scrapes each colour's demo-app replicas (Prometheus text) and derives rates, errors and quantiles per interval", async () => {
    const [blue, green] = await Promise.all([
      startDemoApp("blue", "1.0.0"),
      startDemoApp("green", "2.0.0", { ERROR_RATIO: "1", ADDED_LATENCY_MS: "30" }),
    ]);
    cleanups.push(
      () => blue.stop(),
      () => green.stop(),
    );
    const replicas = (colour: Colour): Endpoint[] => [colour === "blue" ? blue.endpoint : green.endpoint];
    const source = new ScrapeMetricSource(replicas, SCRAPE);
    const intervals = new IntervalSamples();
    const signal = AbortSignal.timeout(5_000);
    expect(intervals.next(await source.read(signal), 1_000)).toBeNull();
    await hit(`${blue.url}/`, 40);
    await hit(`${green.url}/`, 10);
    await hit(`${blue.url}/health`, 25); // not counted: the label filter keeps path="/"
    const samples = intervals.next(await source.read(signal), 2_000);
    expect(samples?.blue).toMatchObject({ requests: 40, errors: 0, errorRate: 0, requestRate: 40 });
    expect(samples?.green).toMatchObject({ requests: 10, errors: 10, errorRate: 1 });
    // 30 ms added on green: its median lands in the 25-50 ms bucket (50-100 ms on a very busy machine).
    expect(samples?.green.p50).toBeGreaterThan(0.025);
    expect(samples?.green.p50).toBeLessThanOrEqual(0.1);
    expect(samples?.blue.p50).toBeLessThan(samples?.green.p50 as number);
  });

  it("reads the simple JSON shape", async () => {
    let served = {
      requests_total: 100,
      errors_total: 5,
      latency_seconds: { p50: 0.02, p99: 0.2 },
      version: "2.0.0",
    };
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const source = new ScrapeMetricSource(
      (colour) => (colour === "green" ? [{ id: "g0", host: "127.0.0.1", port }] : []),
      SCRAPE,
    );
    const intervals = new IntervalSamples();
    intervals.next(await source.read(AbortSignal.timeout(2_000)), 0);
    served = { ...served, requests_total: 300, errors_total: 15 };
    const samples = intervals.next(await source.read(AbortSignal.timeout(2_000)), 2_000);
    expect(samples?.green).toMatchObject({
      requests: 200,
      errors: 10,
      errorRate: 0.05,
      requestRate: 100,
      p50: 0.02,
      p99: 0.2,
      p95: null,
    });
    expect(samples?.blue).toMatchObject({ requests: 0, errorRate: null, p50: null });
  });

  it("fails a reading only when every replica fails, with a message that says what to check", async () => {
    const source = new ScrapeMetricSource(() => [{ id: "gone", host: "127.0.0.1", port: 1 }], SCRAPE);
    await expect(source.read(AbortSignal.timeout(2_000))).rejects.toThrow(
      /scraping http:\/\/127\.0\.0\.1:1\/metrics failed: .*analysis\.source\.path/,
    );
  });

  it("treats a counter that went down as a reset, and skips a series until its second reading", () => {
    const series = (key: string, requests: number, errors = 0): CounterSeries => ({
      colour: "blue",
      key,
      requests,
      errors,
      buckets: [],
      quantiles: null,
      saturation: null,
    });
    const intervals = new IntervalSamples();
    intervals.next({ kind: "counters", series: [series("a", 100)] }, 0);
    const reset = intervals.next(
      { kind: "counters", series: [series("a", 7, 1), series("b", 1_000)] },
      1_000,
    );
    expect(reset?.blue).toMatchObject({ requests: 7, errors: 1 });
    const both = intervals.next(
      { kind: "counters", series: [series("a", 17, 1), series("b", 1_005)] },
      2_000,
    );
    expect(both?.blue).toMatchObject({ requests: 15, errors: 0 });
  });

  it("reads the router's per-colour metrics, mirrored copies included, through the sampler", async () => {
    const [blue, green] = await Promise.all([
      startDemoApp("blue", "1.0.0"),
      startDemoApp("green", "2.0.0", { ERROR_RATIO: "1" }),
    ]);
    cleanups.push(
      () => blue.stop(),
      () => green.stop(),
    );
    const router = await startRouter();
    cleanups.push(() => router.close());
    router.setEndpoints("blue", [blue.endpoint]);
    router.setEndpoints("green", [green.endpoint]);
    const sampler = new ColourSampler({ source: new RouterMetricSource(router), intervalMs: 200 });
    sampler.start();
    cleanups.push(() => sampler.stop());
    await sampler.nextTick(AbortSignal.timeout(5_000));
    router.setMirror({ share: 1, methods: ["GET"], queueLimit: 64, timeoutMs: 2_000 });
    await hit(`${mainUrl(router)}/`, 30);
    await hit(`${previewUrl(router)}/`, 5);
    await eventually("the sampler saw every request", () => {
      const ticks = sampler.recent();
      const total = (colour: Colour) => ticks.reduce((sum, t) => sum + t.samples[colour].requests, 0);
      return total("blue") === 30 && total("green") === 35;
    });
    const ticks = sampler.recent();
    const greenErrors = ticks.reduce((sum, t) => sum + t.samples.green.errors, 0);
    expect(greenErrors).toBe(35);
    expect(sampler.samples("blue").every((s) => s.colour === "blue")).toBe(true);
  });
});
