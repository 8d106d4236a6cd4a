import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Router } from "../../src/router/router.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";
import { closedPort, startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { openWebSocket } from "../helpers/websocket-client.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function twoColours(): Promise<Router> {
  const upstreams: TestUpstream[] = [await startUpstream("blue-0"), await startUpstream("green-0")];
  cleanups.push(async () => {
    for (const upstream of upstreams) await upstream.stop();
  });
  const router = await startRouter();
  cleanups.push(() => router.close());
  router.setEndpoints("blue", [(upstreams[0] as TestUpstream).endpoint]);
  router.setEndpoints("green", [(upstreams[1] as TestUpstream).endpoint]);
  return router;
}

const wsUrl = (router: Router) => `${mainUrl(router).replace("http", "ws")}/ws`;

describe("Router: WebSockets", () => {
  it("keeps a WebSocket opened before the switch working until drain closes it at the deadline", async () => {
    const router = await twoColours();
    const before = await openWebSocket(wsUrl(router));
    expect(before.colour).toBe("blue");
    expect(before.hello).toBe("hello from blue-0");

    router.switchTo("green");
    before.socket.send("still there?");
    expect(await before.next()).toBe("blue-0: still there?");

    const after = await openWebSocket(wsUrl(router));
    expect(after.colour).toBe("green");
    expect(after.hello).toBe("hello from green-0");
    cleanups.push(async () => after.socket.terminate());

    expect(router.inFlight("blue")).toBe(1);
    const closed = new Promise<number>((resolve) => before.socket.once("close", resolve));
    const started = Date.now();
    expect(await router.drain("blue", 300)).toEqual({ completed: 0, cancelled: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await closed;
    expect(router.inFlight("blue")).toBe(0);

    after.socket.send("new colour");
    expect(await after.next()).toBe("green-0: new colour");
  });

  it("counts a WebSocket closed before the deadline as completed", async () => {
    const router = await twoColours();
    const before = await openWebSocket(wsUrl(router));
    router.switchTo("green");
    const drained = router.drain("blue", 5_000);
    before.socket.close();
    expect(await drained).toEqual({ completed: 1, cancelled: 0 });
  });

  it("refuses the upgrade with 503 when the colour has no replica, and 502 when it is down", async () => {
    const router = await startRouter();
    cleanups.push(() => router.close());
    const statusOf = (url: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(url);
        socket.once("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0);
          socket.terminate();
        });
        socket.once("error", () => resolve(-1));
      });
    expect(await statusOf(wsUrl(router))).toBe(503);
    router.setEndpoints("blue", [{ id: "gone", host: "127.0.0.1", port: await closedPort() }]);
    expect(await statusOf(wsUrl(router))).toBe(502);
  });
});
