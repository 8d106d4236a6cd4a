/**
 * The built-in router's hold of new requests (RequestHold): a real Router, real HTTP and WebSocket
 * upstreams, real sockets. Every wait is on an event or a state the router reports, never a fixed sleep.
 */
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Colour } from "../../src/colour.js";
import { hasCode } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import type { ColourLane } from "../../src/router/colour-lane.js";
import type { HeldRequest } from "../../src/router/held-request.js";
import { RouterHold } from "../../src/router/request-hold.js";
import type { Router, RouterOptions } from "../../src/router/router.js";
import { SharedActiveColour } from "../../src/router/shared-active-colour.js";
import { InMemoryRouter } from "../fakes/in-memory-router.js";
import { mainUrl, previewUrl, startRouter } from "../helpers/start-router.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { openWebSocket } from "../helpers/websocket-client.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TwoColours {
  readonly router: Router;
  readonly blue: TestUpstream;
  readonly green: TestUpstream;
}

/** A started router with one replica per colour, blue active. */
async function twoColours(options: Partial<RouterOptions> = {}): Promise<TwoColours> {
  const blue = await startUpstream("blue-0");
  const green = await startUpstream("green-0");
  cleanups.push(async () => {
    await blue.stop();
    await green.stop();
  });
  const router = await startRouter(options);
  cleanups.push(() => router.close());
  router.setEndpoints("blue", [blue.endpoint]);
  router.setEndpoints("green", [green.endpoint]);
  return { router, blue, green };
}

/** A request whose answer is recorded when it comes, so a test can say it has not come yet. */
interface Sent {
  readonly id: number;
  answer: { status: number; colour: string; body: string; headers: Record<string, unknown> } | null;
  readonly done: Promise<void>;
}

function send(
  url: string,
  id: number,
  init: { method?: "GET" | "POST"; body?: string; signal?: AbortSignal } = {},
): Sent {
  const sent: Sent = {
    id,
    answer: null,
    done: request(url, {
      method: init.method ?? "GET",
      body: init.body ?? null,
      signal: init.signal ?? null,
    }).then(async (response) => {
      const body = await response.body.text();
      sent.answer = {
        status: response.statusCode,
        colour: String(response.headers["x-cutover-colour"]),
        body,
        headers: response.headers,
      };
    }),
  };
  return sent;
}

const held = (router: Router) => router.requestHold.holding()?.held ?? 0;

describe("Router: holding new requests", () => {
  it("answers no held request until the release, then each once, by the colour active at the release", async () => {
    const { router, blue, green } = await twoColours();
    router.requestHold.hold(30_000, "test");
    const requests = Array.from({ length: 20 }, (_, id) => send(`${mainUrl(router)}/?id=${id}`, id));
    await expect.poll(() => held(router)).toBe(20);
    expect(requests.filter((r) => r.answer !== null)).toEqual([]);
    expect([blue.requests, green.requests]).toEqual([0, 0]);
    expect(router.inFlight("blue") + router.inFlight("green")).toBe(0);

    router.switchTo("green");
    const result = router.requestHold.release();
    expect(result).toMatchObject({ held: 20, timedOut: false, colour: "green", gone: 0, refused: 0 });
    expect(result.heldMs).toBeGreaterThanOrEqual(0);
    await Promise.all(requests.map((r) => r.done));
    for (const r of requests)
      expect(r.answer).toMatchObject({ status: 200, colour: "green", body: "green-0" });
    expect([blue.requests, green.requests]).toEqual([0, 20]);
    expect(router.requestHold.holding()).toBeNull();

    const metrics = await router.metrics();
    expect(metrics).toContain('cutover_held_requests_total{outcome="released"} 20');
    expect(metrics).toContain('cutover_holds_total{ended="release"} 1');
    expect(metrics).toContain("cutover_held_requests 0");
  });

  it("holds a request's body unread and forwards it whole at the release", async () => {
    const { router } = await twoColours();
    router.requestHold.hold(30_000, "test");
    const post = send(`${mainUrl(router)}/echo`, 0, { method: "POST", body: "a body that waited" });
    await expect.poll(() => held(router)).toBe(1);
    router.requestHold.release();
    await post.done;
    expect(post.answer).toMatchObject({ status: 200, colour: "blue", body: "a body that waited" });
  });

  it("starts the held requests in arrival order", () => {
    const started: string[] = [];
    const lane = { colour: "green" } as ColourLane;
    const hold = new RouterHold({
      activeLane: () => lane,
      lane: () => lane,
      limit: 10,
      logger: silentLogger(),
    });
    const held = (name: string): HeldRequest => ({
      start: (l) => started.push(`${name}@${l.colour}`),
      refuse: () => started.push(`${name} refused`),
      abandon: () => {},
      watchGone: () => () => {},
    });
    expect(hold.admit(held("before"))).toBe(false);
    hold.hold(10_000, "test");
    for (const name of ["a", "b", "c", "d"]) expect(hold.admit(held(name))).toBe(true);
    expect(hold.release()).toMatchObject({ held: 4, colour: "green" });
    expect(started).toEqual(["a@green", "b@green", "c@green", "d@green"]);
  });

  it("releases by itself at its timeout", async () => {
    const { router } = await twoColours();
    router.requestHold.hold(300, "short");
    const ended = router.requestHold.released();
    const waiting = send(mainUrl(router), 0);
    await expect.poll(() => held(router)).toBe(1);
    const result = await ended;
    expect(result).toMatchObject({ held: 1, timedOut: true, colour: "blue" });
    expect(result?.heldMs).toBeGreaterThanOrEqual(250);
    await waiting.done;
    expect(waiting.answer).toMatchObject({ status: 200, colour: "blue" });
    expect(router.requestHold.holding()).toBeNull();
    expect(await router.requestHold.released()).toBeNull();
    expect(await router.metrics()).toContain('cutover_holds_total{ended="timeout"} 1');
  });

  it("answers 503 with Retry-After beyond its limit, and counts it", async () => {
    const { router, blue } = await twoColours({ holdLimit: 2 });
    router.requestHold.hold(30_000, "test");
    const first = [send(mainUrl(router), 0), send(mainUrl(router), 1)];
    await expect.poll(() => held(router)).toBe(2);
    const refused = send(mainUrl(router), 2);
    await refused.done;
    expect(refused.answer?.status).toBe(503);
    expect(refused.answer?.headers["retry-after"]).toBe("1");
    expect(JSON.parse(refused.answer?.body ?? "{}")).toMatchObject({ error: "too many requests held" });
    expect(blue.requests).toBe(0);
    expect(router.requestHold.release()).toMatchObject({ held: 2, refused: 1 });
    await Promise.all(first.map((r) => r.done));
    for (const r of first) expect(r.answer?.status).toBe(200);
    expect(await router.metrics()).toContain('cutover_held_requests_total{outcome="refused"} 1');
  });

  it("drops a request whose client goes away while held, leaving nothing behind", async () => {
    const { router, blue, green } = await twoColours();
    router.requestHold.hold(30_000, "test");
    const abort = new AbortController();
    const leaving = send(mainUrl(router), 0, { signal: abort.signal });
    const staying = send(mainUrl(router), 1);
    await expect.poll(() => held(router)).toBe(2);
    abort.abort();
    await expect(leaving.done).rejects.toThrow();
    await expect.poll(() => held(router)).toBe(1);
    expect(router.requestHold.release()).toMatchObject({ held: 1, gone: 1 });
    await staying.done;
    expect(staying.answer?.status).toBe(200);
    expect(blue.requests + green.requests).toBe(1);
    expect(router.inFlight("blue") + router.inFlight("green")).toBe(0);
    const metrics = await router.metrics();
    expect(metrics).toContain('cutover_held_requests_total{outcome="gone"} 1');
    expect(metrics).toContain("cutover_held_requests 0");
  });

  it("quiet() resolves true once the colour's requests finish, false at its deadline, cancelling none", async () => {
    const { router, blue } = await twoColours();
    const long = send(`${mainUrl(router)}/hold`, 0);
    await expect.poll(() => router.inFlight("blue")).toBe(1);
    router.requestHold.hold(30_000, "test");

    expect(await router.requestHold.quiet("blue", 100)).toBe(false);
    expect(router.inFlight("blue")).toBe(1); // not cancelled
    expect(await router.requestHold.quiet("green", 100)).toBe(true);

    const quiet = router.requestHold.quiet("blue", 30_000);
    let settled = false;
    void quiet.then(() => {
      settled = true;
    });
    await expect.poll(() => blue.requests).toBe(1);
    expect(settled).toBe(false);
    blue.release();
    expect(await quiet).toBe(true);
    await long.done;
    expect(long.answer).toMatchObject({ status: 200, body: "first\nrest\n" });
    router.requestHold.release();
  });

  it("holds a WebSocket upgrade, then serves it on the colour active at the release", async () => {
    const { router } = await twoColours();
    router.requestHold.hold(30_000, "test");
    const opening = openWebSocket(`${mainUrl(router).replace("http", "ws")}/ws`);
    await expect.poll(() => held(router)).toBe(1);
    router.switchTo("green");
    expect(router.requestHold.release()).toMatchObject({ held: 1, colour: "green" });
    const socket = await opening;
    cleanups.push(async () => socket.socket.terminate());
    expect(socket.colour).toBe("green");
    expect(socket.hello).toBe("hello from green-0");
    expect(await socket.exchange("after the hold", 5_000)).toBe("green-0: after the hold");
  });

  it("never holds the preview listener", async () => {
    const { router } = await twoColours();
    router.requestHold.hold(30_000, "test");
    const preview = send(previewUrl(router), 0);
    await preview.done;
    expect(preview.answer).toMatchObject({ status: 200, colour: "green" });
    expect(router.requestHold.release()).toMatchObject({ held: 0 });
  });

  it("releases to the colour another thread switched to through the shared pointer", async () => {
    const pointer = new SharedActiveColour("blue");
    const { router } = await twoColours({ activeColour: pointer });
    router.requestHold.hold(30_000, "test");
    const waiting = send(mainUrl(router), 0);
    await expect.poll(() => held(router)).toBe(1);
    // What an admin worker thread does with the buffer it was given.
    new SharedActiveColour(pointer.buffer).switchTo("green");
    expect(router.requestHold.release()).toMatchObject({ held: 1, colour: "green" });
    await waiting.done;
    expect(waiting.answer?.colour).toBe("green");
  });

  it("refuses a second hold, and a second release returns 0", async () => {
    const { router } = await twoColours();
    router.requestHold.hold(30_000, "first");
    const refused = (() => {
      try {
        router.requestHold.hold(30_000, "second");
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(hasCode(refused, "HOLD_ACTIVE")).toBe(true);
    expect(String(refused)).toMatch(/first.*cutover resume/);
    expect(router.requestHold.holding()).toMatchObject({ reason: "first", held: 0 });
    expect(router.requestHold.release().timedOut).toBe(false);
    const again = router.requestHold.release();
    expect(again).toMatchObject({ held: 0, heldMs: 0, timedOut: false } satisfies Partial<typeof again>);
    expect((["blue", "green"] as Colour[]).includes(again.colour)).toBe(true);
  });

  it("closes the held connections when the router closes", async () => {
    const { router } = await twoColours();
    router.requestHold.hold(30_000, "test");
    const ended = router.requestHold.released();
    const waiting = send(mainUrl(router), 0);
    await expect.poll(() => held(router)).toBe(1);
    await router.close();
    await expect(waiting.done).rejects.toThrow();
    expect(await ended).toMatchObject({ held: 0, gone: 1 });
  });
});

describe("InMemoryRouter's hold (the engine tests' fake) keeps the router's rules", () => {
  it("routes held requests, in arrival order, to the colour active at the release; refuses a second hold", async () => {
    const router = new InMemoryRouter("blue");
    const replica = (id: string) => ({ id, host: "127.0.0.1", port: 1 });
    router.setEndpoints("blue", [replica("b")]);
    router.setEndpoints("green", [replica("g")]);
    const long = router.begin();
    router.requestHold.hold(30_000, "test");
    expect(() => router.begin()).toThrow(/arrive/);
    const order: string[] = [];
    const arriving = ["a", "b", "c"].map((name) =>
      router.arrive().then((routed) => order.push(`${name}@${routed?.colour}`)),
    );
    const preview = await router.arrive("preview");
    expect(preview?.colour).toBe("green");
    expect(router.requestHold.holding()?.held).toBe(3);
    expect(() => router.requestHold.hold(1, "again")).toThrow(/held already/);
    expect(await router.requestHold.quiet("blue", 10)).toBe(false);
    router.switchTo("green");
    expect(router.requestHold.release()).toMatchObject({ held: 3, colour: "green", timedOut: false });
    router.switchTo("blue"); // after the release: changes nothing for the released ones
    await Promise.all(arriving);
    expect(order).toEqual(["a@green", "b@green", "c@green"]);
    long?.end();
    expect(await router.requestHold.quiet("blue", 10)).toBe(true);
    router.requestHold.hold(20, "short");
    expect(await router.requestHold.released()).toMatchObject({ held: 0, timedOut: true });
    await router.close();
  });
});
