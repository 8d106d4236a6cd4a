/** The front's probe of one region against a real HTTP server: thresholds, timeouts, refused connections. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ProbeResult, probeOnce, RegionProber } from "../../src/front/region-prober.js";
import { type RegionStandIn, startRegion } from "./front-fixtures.js";

interface Probe {
  readonly healthy: boolean | null;
  readonly result: ProbeResult;
  readonly changed: boolean;
}

const probers: RegionProber[] = [];
const regions: RegionStandIn[] = [];
afterEach(async () => {
  await Promise.all(probers.splice(0).map((p) => p.stop()));
  await Promise.all(regions.splice(0).map((r) => r.kill()));
});

/** A prober of `region`'s /health whose probes are read one at a time, as they happen. */
function probe(region: RegionStandIn, thresholds: { successThreshold: number; failureThreshold: number }) {
  const seen: Probe[] = [];
  let wake: (() => void) | null = null;
  const prober = new RegionProber({
    url: `${region.url}/health`,
    settings: { intervalMs: 30, timeoutMs: 500, ...thresholds },
    onProbe: (healthy, result, changed) => {
      seen.push({ healthy, result, changed });
      wake?.();
    },
  });
  probers.push(prober);
  prober.start();
  let read = 0;
  /** The probes from the last read up to the one that changed the verdict. */
  const untilChange = async (): Promise<Probe[]> => {
    for (;;) {
      const index = seen.findIndex((p, i) => i >= read && p.changed);
      if (index >= 0) {
        const run = seen.slice(read, index + 1);
        read = index + 1;
        return run;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  return { prober, untilChange };
}

describe("the region prober", () => {
  it("finds a region healthy after successThreshold passes, unhealthy after failureThreshold failures", async () => {
    const region = await startRegion("eu");
    regions.push(region);
    const { prober, untilChange } = probe(region, { successThreshold: 2, failureThreshold: 3 });
    const up = await untilChange();
    expect(up.map((p) => p.result.passed)).toEqual([true, true]);
    expect(up.map((p) => p.healthy)).toEqual([null, true]);
    region.setHealthy(false);
    const down = await untilChange();
    // Passes that were under way when health turned off change nothing; then exactly three failures.
    const failures = down.filter((p) => !p.result.passed);
    expect(failures.map((p) => p.result.detail)).toEqual(["HTTP 503", "HTTP 503", "HTTP 503"]);
    expect(down.at(-1)?.healthy).toBe(false);
    expect(prober.healthy).toBe(false);
    region.setHealthy(true);
    expect((await untilChange()).filter((p) => p.result.passed)).toHaveLength(2);
    expect(prober.healthy).toBe(true);
  });

  it("fails a probe that finds the region gone (refused) or that gets no answer within the timeout", async () => {
    const region = await startRegion("eu");
    await region.kill();
    expect(await probeOnce(`${region.url}/health`, 500)).toEqual({ passed: false, detail: "ECONNREFUSED" });
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      expect(await probeOnce(`http://127.0.0.1:${port}/health`, 100)).toEqual({
        passed: false,
        detail: "timed out after 100ms",
      });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
