import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Colour } from "../../src/colour.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import type { Router } from "../../src/router/router.js";
import { SharedActiveColour } from "../../src/router/shared-active-colour.js";
import { colourOf, startLoad } from "../helpers/colour-load.js";
import { mainUrl, previewUrl, startRouter } from "../helpers/start-router.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A started router with two replicas per colour, blue active. */
async function twoColours(): Promise<{ router: Router; upstreams: TestUpstream[] }> {
  const upstreams: TestUpstream[] = [];
  for (const name of ["blue-0", "blue-1", "green-0", "green-1"]) upstreams.push(await startUpstream(name));
  cleanups.push(async () => {
    for (const upstream of upstreams) await upstream.stop();
  });
  const router = await startRouter();
  cleanups.push(() => router.close());
  for (const colour of ["blue", "green"] as const) {
    router.setEndpoints(
      colour,
      upstreams.filter((upstream) => upstream.name.startsWith(colour)).map((upstream) => upstream.endpoint),
    );
  }
  return { router, upstreams };
}

describe("Router: switching colours", () => {
  it("loses no request of 50 keep-alive connections across 20 switches", async () => {
    const { router } = await twoColours();
    const load = startLoad(mainUrl(router), 50);
    await sleep(100);
    let target: Colour = "blue";
    for (let i = 0; i < 20; i++) {
      target = target === "blue" ? "green" : "blue";
      router.switchTo(target);
      expect(await colourOf(mainUrl(router))).toBe(target);
      await sleep(40);
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    // The load ran on every connection (how fast is for bench/, not a test).
    expect(result.connections).toBe(50);
    expect(result.answered).toBeGreaterThanOrEqual(50);
    expect(await router.metrics()).toContain("cutover_switches_total 20");
  });

  it("loses no request while the active colour's replicas are replaced under load", async () => {
    const { router, upstreams } = await twoColours();
    const [a, b] = upstreams.filter((upstream) => upstream.name.startsWith("blue")).map((u) => u.endpoint);
    const load = startLoad(mainUrl(router), 50);
    const sets = [[a], [b], [a, b], [b, a]];
    for (let i = 0; i < 20; i++) {
      router.setEndpoints("blue", sets[i % sets.length] as Endpoint[]);
      await sleep(40);
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.answered).toBeGreaterThanOrEqual(50); // the load ran (how fast is for bench/)
  });

  it("lets a 3 s request in flight on blue finish with 200 after the switch to green", async () => {
    const { router } = await twoColours();
    const slow = request(`${mainUrl(router)}/slow?ms=3000`);
    await expect.poll(() => router.inFlight("blue")).toBe(1);
    const switched = router.switchTo("green");
    expect(switched).toMatchObject({ from: "blue", to: "green" });
    expect(await colourOf(mainUrl(router))).toBe("green");
    const drained = router.drain("blue", 10_000);
    const response = await slow;
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-cutover-colour"]).toBe("blue");
    expect(await response.body.text()).toMatch(/^blue-/);
    expect(await drained).toEqual({ completed: 1, cancelled: 0 });
    expect(router.inFlight("blue")).toBe(0);
  });

  it("cancels at the drain deadline what is still in flight", async () => {
    const { router } = await twoColours();
    const slow = request(`${mainUrl(router)}/slow?ms=5000`);
    await expect.poll(() => router.inFlight("blue")).toBe(1);
    router.switchTo("green");
    expect(await router.drain("blue", 100)).toEqual({ completed: 0, cancelled: 1 });
    const response = await slow;
    expect(response.statusCode).toBe(503);
    expect(await response.body.json()).toMatchObject({ error: "request cancelled by drain", colour: "blue" });
  });

  it("serves the idle colour on the preview listener, following each switch", async () => {
    const { router } = await twoColours();
    expect(await colourOf(previewUrl(router))).toBe("green");
    expect(await colourOf(mainUrl(router))).toBe("blue");
    router.switchTo("green");
    expect(await colourOf(previewUrl(router))).toBe("blue");
    expect(await colourOf(mainUrl(router))).toBe("green");
  });

  it("follows a switch made through its shared pointer by another holder of the buffer", async () => {
    const pointer = new SharedActiveColour("green");
    const router = await startRouter({ activeColour: pointer });
    cleanups.push(() => router.close());
    const upstreams = await Promise.all(["blue-0", "green-0"].map((name) => startUpstream(name)));
    cleanups.push(async () => {
      for (const upstream of upstreams) await upstream.stop();
    });
    router.setEndpoints("blue", [(upstreams[0] as TestUpstream).endpoint]);
    router.setEndpoints("green", [(upstreams[1] as TestUpstream).endpoint]);
    // The pointer's colour wins over initialActive ("blue" in startRouter).
    expect(router.active).toBe("green");
    expect(await colourOf(mainUrl(router))).toBe("green");
    // What an admin worker thread does with the buffer it was given.
    const admin = new SharedActiveColour(pointer.buffer);
    expect(admin.switchTo("blue")).toBe("green");
    expect(router.active).toBe("blue");
    expect(await colourOf(mainUrl(router))).toBe("blue");
    expect(await colourOf(previewUrl(router))).toBe("green");
    expect(await router.metrics()).toContain("cutover_switches_total 1");
  });

  it("does nothing but report when switched to the colour already active", async () => {
    const { router } = await twoColours();
    expect(router.switchTo("blue")).toMatchObject({ from: "blue", to: "blue" });
    expect(router.active).toBe("blue");
    expect(await router.metrics()).toContain("cutover_switches_total 0");
  });
});
