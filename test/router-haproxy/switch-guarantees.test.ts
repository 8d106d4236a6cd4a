/**
 * The switching guarantees of the router, checked on every data plane this machine has: the built-in
 * router and HAProxy (runtime API). Under CI=true a missing HAProxy fails the run instead of skipping.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Colour } from "../../src/colour.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import { HaproxyNotInstalledError } from "../../src/router/haproxy/haproxy-binary.js";
import { colourOf, startLoad } from "../helpers/colour-load.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";
import {
  availableDataPlanes,
  type DataPlane,
  type DataPlaneName,
  haproxyInstalled,
  mustHaveHaproxy,
  startDataPlane,
} from "./data-planes.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A started data plane with two replicas per colour, blue active. */
async function twoColours(name: DataPlaneName): Promise<{ plane: DataPlane; upstreams: TestUpstream[] }> {
  const upstreams: TestUpstream[] = [];
  for (const upstream of ["blue-0", "blue-1", "green-0", "green-1"])
    upstreams.push(await startUpstream(upstream));
  cleanups.push(async () => {
    for (const upstream of upstreams) await upstream.stop();
  });
  const plane = await startDataPlane(name);
  cleanups.push(() => plane.close());
  for (const colour of ["blue", "green"] as const) {
    await plane.setEndpoints(
      colour,
      upstreams.filter((upstream) => upstream.name.startsWith(colour)).map((upstream) => upstream.endpoint),
    );
  }
  return { plane, upstreams };
}

if (mustHaveHaproxy && !haproxyInstalled) {
  describe("HAProxy data plane", () => {
    it("is installed (CI=true: install it with `apt-get install -y haproxy`)", () => {
      throw new HaproxyNotInstalledError("haproxy");
    });
  });
}
if (!haproxyInstalled && !mustHaveHaproxy) {
  describe.skip("HAProxy data plane (skipped: haproxy is not installed; `apt-get install -y haproxy`)", () => {
    it("switches without losing a request", () => {});
  });
}

describe.each(availableDataPlanes())("%s data plane: switching colours", (name) => {
  it("loses no request of 50 keep-alive connections across 20 switches", async () => {
    const { plane } = await twoColours(name);
    const load = startLoad(plane.mainUrl, 50);
    await sleep(100);
    let target: Colour = "blue";
    for (let i = 0; i < 20; i++) {
      target = target === "blue" ? "green" : "blue";
      await plane.router.switchTo(target);
      expect(await colourOf(plane.mainUrl)).toBe(target);
      await sleep(40);
    }
    await expect.poll(() => load.answered, { timeout: 20_000 }).toBeGreaterThan(500);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.answered).toBeGreaterThan(500);
    expect(result.connections).toBe(50);
    expect(await plane.router.metrics()).toContain("cutover_switches_total 20");
  });

  it("loses no request while the active colour's replicas are replaced under load", async () => {
    const { plane, upstreams } = await twoColours(name);
    const [a, b] = upstreams.filter((upstream) => upstream.name.startsWith("blue")).map((u) => u.endpoint);
    const load = startLoad(plane.mainUrl, 50);
    const sets = [[a], [b], [a, b], [b, a]];
    // At least 20 changes, and on until 500 answers came through them (a busy machine answers slowly).
    const until = Date.now() + 20_000;
    for (let i = 0; i < 20 || (load.answered <= 500 && Date.now() < until); i++) {
      await plane.setEndpoints("blue", sets[i % sets.length] as Endpoint[]);
      await sleep(40);
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.answered).toBeGreaterThan(500);
  });

  it("lets a 3 s request in flight on blue finish with 200 after the switch to green", async () => {
    const { plane } = await twoColours(name);
    const slow = request(`${plane.mainUrl}/slow?ms=3000`);
    await expect.poll(() => plane.router.inFlight("blue")).toBe(1);
    expect(await plane.router.switchTo("green")).toMatchObject({ from: "blue", to: "green" });
    expect(await colourOf(plane.mainUrl)).toBe("green");
    const drained = plane.router.drain("blue", 10_000);
    const response = await slow;
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-cutover-colour"]).toBe("blue");
    expect(await response.body.text()).toMatch(/^blue-/);
    expect(await drained).toEqual({ completed: 1, cancelled: 0 });
    await expect.poll(() => plane.router.inFlight("blue")).toBe(0);
  });

  it("cancels at the drain deadline what is still in flight", async () => {
    const { plane } = await twoColours(name);
    const slow = request(`${plane.mainUrl}/slow?ms=5000`);
    await expect.poll(() => plane.router.inFlight("blue")).toBe(1);
    await plane.router.switchTo("green");
    const started = Date.now();
    expect(await plane.router.drain("blue", 300)).toEqual({ completed: 0, cancelled: 1 });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The built-in router answers 503 itself; HAProxy answers 502, as the replica's side was cut.
    const response = await slow;
    expect(response.statusCode).toBe(name === "builtin" ? 503 : 502);
    expect(await response.body.json()).toMatchObject({ colour: "blue" });
  });

  it("serves the idle colour on the preview listener, following each switch", async () => {
    const { plane } = await twoColours(name);
    expect(await colourOf(plane.previewUrl)).toBe("green");
    expect(await colourOf(plane.mainUrl)).toBe("blue");
    await plane.router.switchTo("green");
    expect(await colourOf(plane.previewUrl)).toBe("blue");
    expect(await colourOf(plane.mainUrl)).toBe("green");
  });

  it("does nothing but report when switched to the colour already active", async () => {
    const { plane } = await twoColours(name);
    expect(await plane.router.switchTo("blue")).toMatchObject({ from: "blue", to: "blue" });
    expect(plane.router.active).toBe("blue");
    expect(await plane.router.metrics()).toContain("cutover_switches_total 0");
  });
});
