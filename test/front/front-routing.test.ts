/** Routing of the global front, as pure functions: priority order and failover, weighted shares. */
import { describe, expect, it } from "vitest";
import {
  eligibleRegions,
  type RoutableRegion,
  routeOrder,
  WeightedRotation,
} from "../../src/front/front-routing.js";

const region = (name: string, more: Partial<RoutableRegion> = {}): RoutableRegion => ({
  name,
  priority: 1,
  weight: 1,
  enabled: true,
  healthy: true,
  ...more,
});

const names = (regions: readonly RoutableRegion[]) => regions.map((r) => r.name);

describe("priority routing", () => {
  const eu = region("eu", { priority: 1 });
  const us = region("us", { priority: 2 });
  const ap = region("ap", { priority: 3 });

  it("sends every request to the first region by ascending priority, the rest behind it in order", () => {
    const rotation = new WeightedRotation();
    for (let i = 0; i < 5; i++)
      expect(names(routeOrder([ap, us, eu], "priority", rotation))).toEqual(["eu", "us", "ap"]);
  });

  it("fails over to the next region when the first is unhealthy or drained", () => {
    const rotation = new WeightedRotation();
    expect(names(routeOrder([{ ...eu, healthy: false }, us, ap], "priority", rotation))).toEqual([
      "us",
      "ap",
    ]);
    expect(names(routeOrder([{ ...eu, enabled: false }, us, ap], "priority", rotation))).toEqual([
      "us",
      "ap",
    ]);
    expect(
      names(routeOrder([{ ...eu, enabled: false }, { ...us, healthy: false }, ap], "priority", rotation)),
    ).toEqual(["ap"]);
  });

  it("keeps the order of the list between regions of the same priority", () => {
    expect(names(eligibleRegions([region("b"), region("a"), region("c", { priority: 0 })]))).toEqual([
      "c",
      "b",
      "a",
    ]);
  });

  it("uses regions not yet probed only while none is healthy, and never a drained or failing one", () => {
    const fresh = region("fresh", { healthy: null, priority: 1 });
    expect(names(eligibleRegions([fresh, us]))).toEqual(["us"]);
    expect(names(eligibleRegions([fresh, { ...us, healthy: false }]))).toEqual(["fresh"]);
    expect(
      names(
        eligibleRegions([
          { ...fresh, enabled: false },
          { ...us, healthy: false },
        ]),
      ),
    ).toEqual([]);
  });
});

describe("weighted routing", () => {
  const share = (regions: readonly RoutableRegion[], requests: number) => {
    const rotation = new WeightedRotation();
    const counts = new Map<string, number>();
    for (let i = 0; i < requests; i++) {
      const first = routeOrder(regions, "weighted", rotation)[0];
      if (first) counts.set(first.name, (counts.get(first.name) ?? 0) + 1);
    }
    return Object.fromEntries(counts);
  };

  it("shares requests exactly by weight among healthy enabled regions", () => {
    const regions = [
      region("eu", { weight: 3 }),
      region("us", { weight: 1, priority: 2 }),
      region("ap", { weight: 6 }),
    ];
    expect(share(regions, 1000)).toEqual({ eu: 300, us: 100, ap: 600 });
  });

  it("spreads a region's turns instead of sending them in a burst", () => {
    const rotation = new WeightedRotation();
    const regions = [region("a", { weight: 2 }), region("b", { weight: 1 })];
    const firsts = Array.from({ length: 6 }, () => routeOrder(regions, "weighted", rotation)[0]?.name);
    expect(firsts).toEqual(["a", "b", "a", "a", "b", "a"]);
  });

  it("leaves a drained or failing region out and shares among the rest; retries go by priority", () => {
    const regions = [
      region("eu", { weight: 1, priority: 1, enabled: false }),
      region("us", { weight: 1, priority: 2 }),
      region("ap", { weight: 1, priority: 3, healthy: false }),
      region("sa", { weight: 3, priority: 4 }),
    ];
    expect(share(regions, 400)).toEqual({ us: 100, sa: 300 });
    const rotation = new WeightedRotation();
    const orders = Array.from({ length: 4 }, () => names(routeOrder(regions, "weighted", rotation)));
    expect(orders).toContainEqual(["sa", "us"]);
    expect(orders).toContainEqual(["us", "sa"]);
  });
});
