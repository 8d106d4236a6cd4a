/**
 * The PromQL source against a real Prometheus server (Debian's `prometheus` package): the test starts it on
 * a free loopback port with its own config and data folder, scraping the demo service's two colours.
 * Without the binary the test is skipped with the reason, except under CI=true, where that is a failure.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ColourSampler } from "../../src/analysis/colour-sampler.js";
import type { DerivedValues } from "../../src/analysis/metric-source.js";
import { PromqlMetricSource } from "../../src/analysis/sources/promql-metric-source.js";
import { type DemoApp, startDemoApp } from "../helpers/demo-app.js";
import { eventually } from "../helpers/eventually.js";
import { freePort } from "../helpers/project.js";
import { steadyLoad } from "../helpers/steady-load.js";

function prometheusBinary(): string | null {
  try {
    return execFileSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

const QUERIES = {
  requestRate: 'sum(rate(http_requests_total{environment="{{colour}}",version="{{version}}",path="/"}[4s]))',
  errorRate:
    '(sum(rate(http_requests_total{environment="{{colour}}",path="/",status=~"5.."}[4s])) or vector(0)) / sum(rate(http_requests_total{environment="{{colour}}",path="/"}[4s]))',
  p50: 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{environment="{{colour}}",path="/"}[4s])))',
  p95: null,
  p99: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{environment="{{colour}}",path="/"}[4s])))',
  saturation: null,
};

const binary = prometheusBinary();
const missing = "the prometheus binary is not installed (apt-get install prometheus; .ci/run does)";

describe("Prometheus server available", () => {
  it.runIf(process.env.CI === "true")("has the prometheus binary under CI", () => {
    expect(binary, missing).not.toBeNull();
  });
});

describe.skipIf(binary === null)(
  `PromQL source against a real Prometheus${binary === null ? ` (skipped: ${missing})` : ""}`,
  () => {
    const apps: DemoApp[] = [];
    let server: ChildProcess | undefined;
    let url = "";
    let dir = "";

    beforeAll(async () => {
      apps.push(
        await startDemoApp("blue", "1.0.0"),
        await startDemoApp("green", "2.0.0", { ERROR_RATIO: "0.2", ADDED_LATENCY_MS: "30" }),
      );
      dir = mkdtempSync(join(tmpdir(), "cutover-prometheus-"));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      writeFileSync(
        join(dir, "prometheus.yml"),
        `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: [${apps.map((a) => `"127.0.0.1:${a.port}"`).join(", ")}]
`,
      );
      server = spawn(
        binary as string,
        [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--log.level=warn",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      server.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await eventually(
        `Prometheus is ready (${stderr.slice(0, 300)})`,
        async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok === true,
        15_000,
      );
    });

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((resolve) => server?.once("exit", resolve));
        server.kill("SIGTERM");
        await exited;
      }
      for (const app of apps) await app.stop();
      if (dir !== "") rmSync(dir, { recursive: true, force: true });
    });

    it("reads each colour's request rate, error rate and latency quantiles with {{colour}} and {{version}} queries", async () => {
      const loads = apps.map((app) => steadyLoad(app.url, { ratePerSecond: 60, maxDurationMs: 40_000 }));
      const versions = { blue: "1.0.0", green: "2.0.0" } as const;
      const source = new PromqlMetricSource({
        url,
        queries: QUERIES,
        timeoutMs: 3_000,
        versionOf: (colour) => versions[colour],
      });
      let values: Record<string, DerivedValues | null> = {};
      await eventually(
        "Prometheus has rates for both colours",
        async () => {
          const reading = await source.read(AbortSignal.timeout(3_000));
          if (reading.kind !== "derived") return false;
          values = reading.values;
          // A 4 s rate() over the first scrapes of the load is still settling (quiet runs read green's 20%
          // errors as 0.44 and as 0.05): wait for a reading of the steady load, within the time below.
          const green = values.green?.errorRate ?? null;
          return (
            (values.blue?.requestRate ?? 0) > 30 &&
            (values.green?.requestRate ?? 0) > 30 &&
            green !== null &&
            green > 0.08 &&
            green < 0.35
          );
        },
        25_000,
      );
      expect(values.blue?.errorRate).toBe(0);
      expect(values.green?.errorRate).toBeGreaterThan(0.08);
      expect(values.green?.errorRate).toBeLessThan(0.35);
      expect(values.green?.p50).toBeGreaterThan(0.025);
      expect(values.blue?.p50).toBeLessThan(0.01);
      expect(values.blue?.p95).toBeNull();

      // The same source behind the sampler gives per-interval samples of both colours.
      const sampler = new ColourSampler({ source, intervalMs: 500 });
      sampler.start();
      try {
        const tick = await sampler.nextTick(AbortSignal.timeout(5_000));
        expect(tick.samples.green.requests).toBeGreaterThan(10);
        expect(tick.samples.green.errorRate).toBeGreaterThan(0.05);
        expect(tick.samples.blue.errorRate).toBe(0);
      } finally {
        sampler.stop();
        for (const load of loads) await load.stop();
      }
    });

    it("fails a bad query with Prometheus' own message and where to fix it", async () => {
      const source = new PromqlMetricSource({
        url,
        queries: { ...QUERIES, requestRate: "sum(rate(" },
        timeoutMs: 3_000,
        versionOf: () => null,
      });
      await expect(source.read(AbortSignal.timeout(3_000))).rejects.toThrow(
        /Prometheus query failed \(.*parse error.*\): sum\(rate\(; check analysis\.source\.url/,
      );
    });
  },
);
