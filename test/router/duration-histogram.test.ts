import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DurationHistogram } from "../../src/router/duration-histogram.js";
import { DURATION_BUCKETS } from "../../src/router/router-metrics.js";

describe("DurationHistogram", () => {
  it("prints what prom-client's own Histogram prints for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new DurationHistogram("d_seconds", "help text", DURATION_BUCKETS, ours);
    const reference = new Histogram({
      name: "d_seconds",
      help: "help text",
      labelNames: ["colour"] as const,
      buckets: [...DURATION_BUCKETS],
      registers: [theirs],
    });
    const observations = [
      ["blue", 0.0004],
      ["blue", 0.001],
      ["blue", 0.0031],
      ["green", 0.2],
      ["blue", 45],
      ["green", 0.01],
    ] as const;
    for (const [colour, seconds] of observations) {
      histogram.observe(colour, seconds);
      reference.observe({ colour }, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it("prints only its help and type before the first observation, and again after a reset", async () => {
    const registry = new Registry();
    const histogram = new DurationHistogram("d_seconds", "help text", DURATION_BUCKETS, registry);
    const empty = "# HELP d_seconds help text\n# TYPE d_seconds histogram\n";
    expect(await registry.metrics()).toBe(empty);
    histogram.observe("blue", 0.5);
    registry.resetMetrics();
    expect(await registry.metrics()).toBe(empty);
  });
});
