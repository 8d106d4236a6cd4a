/**
 * A green as good as blue must not fail: 20 analyses in a row, none Fail. The samples are real: readings of
 * the router source recorded while blue and green demo apps with identical settings served live traffic
 * (green live, blue getting all of it mirrored, as after a switch with mirror.share 1), kept in
 * fixtures/identical-colours.jsonl and replayed through the real sampler and analysis, one slice per run,
 * at a faster clock. Replaying a recording keeps the test fast and independent of how busy the machine is;
 * CUTOVER_RECORD_FIXTURE=1 records it again (about 13 s). Live runs of the same are in post-switch-pass.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ColourSampler } from "../../src/analysis/colour-sampler.js";
import { CutoverAnalysis } from "../../src/analysis/cutover-analysis.js";
import type { MetricSource, SourceReading } from "../../src/analysis/metric-source.js";
import { RouterMetricSource } from "../../src/analysis/sources/router-metric-source.js";
import { analysisConfig } from "../../src/config/analysis-schema.js";
import { startDemoApp } from "../helpers/demo-app.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";
import { steadyLoad } from "../helpers/steady-load.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FIXTURE = join(import.meta.dirname, "fixtures/identical-colours.jsonl");
const FIXTURE_NOTE = 'readings of RouterMetricSource, one per line; "+Inf" stands for Infinity';
const RUNS = 20;
const READINGS_PER_RUN = 8;
const RECORD_EVERY_MS = 80;

/** Replays recorded readings of a real source, one per read(). */
class RecordedSource implements MetricSource {
  readonly kind = "recorded";
  readonly #readings: readonly SourceReading[];
  #next = 0;

  constructor(readings: readonly SourceReading[]) {
    this.#readings = readings;
  }

  async read(): Promise<SourceReading> {
    const reading = this.#readings[Math.min(this.#next, this.#readings.length - 1)] as SourceReading;
    this.#next++;
    return reading;
  }
}

async function record(): Promise<SourceReading[]> {
  const same = { ADDED_LATENCY_MS: "30" };
  const [blue, green] = await Promise.all([
    startDemoApp("blue", "1.0.0", same),
    startDemoApp("green", "2.0.0", same),
  ]);
  cleanups.push(
    () => blue.stop(),
    () => green.stop(),
  );
  const router = await startRouter({ initialActive: "green" });
  cleanups.push(() => router.close());
  router.setEndpoints("blue", [blue.endpoint]);
  router.setEndpoints("green", [green.endpoint]);
  router.setMirror({ share: 1, methods: ["GET"], queueLimit: 256, timeoutMs: 5_000 });
  const source = new RouterMetricSource(router);
  const load = steadyLoad(mainUrl(router), { ratePerSecond: 250, maxDurationMs: 30_000 });
  await sleep(500);
  const readings: SourceReading[] = [];
  const started = Date.now();
  for (let i = 0; i < RUNS * READINGS_PER_RUN; i++) {
    const due = started + i * RECORD_EVERY_MS;
    await sleep(Math.max(0, due - Date.now()));
    readings.push(await source.read());
  }
  const result = await load.stop();
  expect(result.failures).toEqual([]);
  return readings;
}

describe("a green as good as blue", () => {
  it(`is never failed: ${RUNS} analyses in a row on recorded real samples`, async () => {
    const infinity = { text: "+Inf", value: Number.POSITIVE_INFINITY };
    let readings: SourceReading[];
    if (process.env.CUTOVER_RECORD_FIXTURE === "1") {
      readings = await record();
      const header = { recordedAt: new Date().toISOString(), everyMs: RECORD_EVERY_MS, note: FIXTURE_NOTE };
      const encode = (_key: string, value: unknown) => (value === infinity.value ? infinity.text : value);
      writeFileSync(
        FIXTURE,
        `${[header, ...readings].map((line) => JSON.stringify(line, encode)).join("\n")}\n`,
      );
    } else {
      const decode = (_key: string, value: unknown) => (value === infinity.text ? infinity.value : value);
      const lines = readFileSync(FIXTURE, "utf8").trim().split("\n").slice(1);
      readings = lines.map((line) => JSON.parse(line, decode) as SourceReading);
    }
    expect(readings).toHaveLength(RUNS * READINGS_PER_RUN);
    const config = analysisConfig({
      interval: "15ms",
      count: READINGS_PER_RUN - 1,
      lookback: "90ms", // 6 intervals, as 3 s at 500 ms
      minRequests: 30,
      failureLimit: 1,
      conditions: [
        { metric: "errorRate", max: 0.01 },
        { metric: "p50", maxRatio: 1.5 },
        { metric: "p99", maxRatio: 2.5 },
      ],
    });
    const verdicts: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const slice = readings.slice(run * READINGS_PER_RUN, (run + 1) * READINGS_PER_RUN);
      const sampler = new ColourSampler({ source: new RecordedSource(slice), intervalMs: config.interval });
      const analysis = new CutoverAnalysis({ config, sampler, mirror: null });
      const started = performance.now();
      const outcome = await analysis.postSwitch({
        deployId: `d${run}`,
        version: "2.0.0",
        baseline: "blue",
        canary: "green",
        signal: AbortSignal.timeout(10_000),
      });
      analysis.close();
      verdicts.push(`${outcome?.verdict} ${(performance.now() - started).toFixed(0)}ms: ${outcome?.summary}`);
    }
    console.log(verdicts.join("\n"));
    expect(verdicts.filter((v) => v.startsWith("Fail"))).toEqual([]);
    // The fixture was recorded on 2 cores under a load average of 10 (other test suites running): in one
    // slice the load generator stalled (65 requests in the lookback, intervals under 5 requests), and that
    // run is rightly Inconclusive, a pause for a person, never a rollback.
    expect(
      verdicts.filter((v) => v.startsWith("Pass") || v.startsWith("Marginal")).length,
    ).toBeGreaterThanOrEqual(RUNS - 1);
  });
});
