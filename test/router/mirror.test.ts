import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/router.js";
import { eventually } from "../helpers/eventually.js";
import { mainUrl, previewUrl, startRouter } from "../helpers/start-router.js";
import { steadyLoad } from "../helpers/steady-load.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function twoColours(): Promise<{ router: Router; blue: TestUpstream; green: TestUpstream }> {
  const blue = await startUpstream("blue-0");
  const green = await startUpstream("green-0");
  cleanups.push(
    () => blue.stop(),
    () => green.stop(),
  );
  const router = await startRouter();
  cleanups.push(() => router.close());
  router.setEndpoints("blue", [blue.endpoint]);
  router.setEndpoints("green", [green.endpoint]);
  return { router, blue, green };
}

const MIRROR = { share: 1, methods: ["GET", "HEAD"], queueLimit: 64, timeoutMs: 2_000 } as const;

function metric(text: string, line: RegExp): number {
  const match = line.exec(text);
  return match ? Number(match[1]) : 0;
}

describe("Router: mirroring to the idle colour", () => {
  it("copies GETs to the idle colour, discards its answers, and follows the switch", async () => {
    const { router, blue, green } = await twoColours();
    router.setMirror(MIRROR);
    for (let i = 0; i < 20; i++) {
      const response = await request(`${mainUrl(router)}/`);
      expect(await response.body.text()).toBe("blue-0");
      expect(response.headers["x-cutover-colour"]).toBe("blue");
      expect(response.headers["x-upstream"]).toBe("blue-0");
    }
    await eventually("green answered 20 copies", () => green.requests === 20);
    expect(blue.requests).toBe(20);
    // The mirror's thread reports its copies in batches: the count catches up within a moment.
    await eventually(
      "20 copies counted",
      async () =>
        metric(
          await router.metrics(),
          /cutover_mirror_requests_total\{colour="green",status="200"\} (\d+)/,
        ) === 20,
    );
    const text = await router.metrics();
    expect(metric(text, /cutover_requests_total\{colour="green",status="200"\} (\d+)/)).toBe(0);

    router.switchTo("green");
    await (await request(`${mainUrl(router)}/`)).body.text();
    await eventually("blue answered the copy after the switch", () => blue.requests === 21);
    expect(green.requests).toBe(21);
  });

  it("never mirrors a request with a body, a method not listed, or the preview listener's traffic", async () => {
    const { router, green } = await twoColours();
    router.setMirror(MIRROR);
    const post = await request(`${mainUrl(router)}/echo`, { method: "POST", body: "payload" });
    expect(await post.body.text()).toBe("payload");
    const del = await request(`${mainUrl(router)}/`, { method: "DELETE" });
    await del.body.dump();
    const preview = await request(`${previewUrl(router)}/`);
    expect(await preview.body.text()).toBe("green-0");
    await sleep(100);
    expect(green.requests).toBe(1); // the preview request itself, nothing mirrored
  });

  it("mirrors only the configured share, and nothing once turned off", async () => {
    const { router, green } = await twoColours();
    router.setMirror({ ...MIRROR, share: 0.25 });
    for (let i = 0; i < 200; i++) await (await request(`${mainUrl(router)}/`)).body.dump();
    await eventually("every copy answered and counted", async () => {
      const text = await router.metrics();
      const counted = metric(text, /cutover_mirror_requests_total\{colour="green",status="200"\} (\d+)/);
      return counted > 0 && counted === green.requests;
    });
    expect(green.requests).toBeGreaterThan(20);
    expect(green.requests).toBeLessThan(90);
    router.setMirror(null);
    // Copies sent before it was turned off may still be on their way: count from when none is.
    await eventually("no copy in flight", () => router.mirrorInFlight() === 0);
    const before = green.requests;
    for (let i = 0; i < 50; i++) await (await request(`${mainUrl(router)}/`)).body.dump();
    await sleep(100);
    expect(router.mirrorInFlight()).toBe(0);
    expect(green.requests).toBe(before);
  });

  it("sends at most maxPerSecond copies a second, whatever the share, spread over the second", async () => {
    const { router, green } = await twoColours();
    router.setMirror({ ...MIRROR, share: 1, maxPerSecond: 20 });
    const started = performance.now();
    const load = steadyLoad(mainUrl(router), { ratePerSecond: 200, maxDurationMs: 1_500 });
    await sleep(1_500);
    const result = await load.stop();
    const seconds = (performance.now() - started) / 1000;
    expect(result.failures).toEqual([]);
    expect(result.sent).toBeGreaterThan(150);
    await eventually("every copy answered and counted", async () => {
      const text = await router.metrics();
      const counted = metric(text, /cutover_mirror_requests_total\{colour="green",status="200"\} (\d+)/);
      return counted > 0 && counted === green.requests;
    });
    // The bucket starts full with a tenth of a second's worth (2), then refills at 20 a second.
    expect(green.requests).toBeLessThanOrEqual(Math.ceil(2 + 20 * seconds));
    expect(green.requests).toBeGreaterThanOrEqual(15);
    const text = await router.metrics();
    expect(text).not.toMatch(/cutover_mirror_dropped_total\{[^}]*\} [1-9]/); // capped copies are not "dropped"
  });

  it("drops copies when the queue is full, counts them, and the live request never waits for its copy", async () => {
    const { router, blue, green } = await twoColours();
    router.setMirror({ ...MIRROR, queueLimit: 2, timeoutMs: 5_000 });
    // /hold answers its head and a first line at once and the rest on release(): green's copies stay in flight.
    for (let i = 0; i < 10; i++) {
      const response = await request(`${mainUrl(router)}/hold`);
      expect(response.headers["x-upstream"]).toBe("blue-0");
      blue.release();
      expect(await response.body.text()).toBe("first\nrest\n");
    }
    const text = await router.metrics();
    expect(metric(text, /cutover_mirror_dropped_total\{colour="green",reason="queue-full"\} (\d+)/)).toBe(8);
    await eventually("green holds the two copies", () => green.requests === 2);
    green.release();
    await eventually(
      "the two copies finished",
      async () =>
        metric(
          await router.metrics(),
          /cutover_mirror_requests_total\{colour="green",status="200"\} (\d+)/,
        ) === 2,
    );
  });

  it("keeps live answers intact under load with mirroring on: nothing from the copies reaches the client", async () => {
    const { router, green } = await twoColours();
    router.setMirror({ ...MIRROR, share: 1 });
    const load = steadyLoad(mainUrl(router), { ratePerSecond: 400, maxDurationMs: 1_500 });
    await sleep(1_500);
    const result = await load.stop();
    expect(result.sent).toBeGreaterThan(400);
    expect(result.failures).toEqual([]);
    expect([...result.colours.keys()]).toEqual(["blue"]);
    expect(result.statuses.get(200)).toBe(result.sent);
    expect(result.headerNames.has("x-cutover-mirror")).toBe(false);
    // Every copy is accounted for: answered by green, or dropped (queue full) and counted.
    await eventually(
      "every copy was answered or counted as dropped",
      async () => {
        const text = await router.metrics();
        const answered = metric(text, /cutover_mirror_requests_total\{colour="green",status="200"\} (\d+)/);
        const dropped = metric(
          text,
          /cutover_mirror_dropped_total\{colour="green",reason="queue-full"\} (\d+)/,
        );
        return answered + dropped === result.sent && green.requests === answered;
      },
      5_000,
    );
  });
});
