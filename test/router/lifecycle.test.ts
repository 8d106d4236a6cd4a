import { request } from "undici";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ListenError } from "../../src/router/listen.js";
import { Router, RouterNotListeningError } from "../../src/router/router.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";
import { startUpstream } from "../helpers/upstream.js";

describe("Router: start and close", () => {
  it("says it is not listening before start", () => {
    const router = new Router({
      listen: { host: "127.0.0.1", port: 0 },
      preview: null,
      sticky: false,
      initialActive: "green",
    });
    expect(() => router.address()).toThrow(RouterNotListeningError);
    expect(router.active).toBe("green");
  });

  it("refuses a port already in use with a ListenError that names the setting", async () => {
    const first = await startRouter();
    const second = new Router({
      listen: first.address(),
      preview: null,
      sticky: false,
      initialActive: "blue",
    });
    const failure = await second.start().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ListenError);
    expect((failure as ListenError).message).toContain("router.listen");
    expect((failure as ListenError).exitCode).toBe(2);
    await first.close();
  });

  it("closes open WebSockets, requests in flight and keep-alive connections", async () => {
    const blue = await startUpstream("blue-0");
    const router = await startRouter({ preview: null });
    expect(router.previewAddress()).toBeNull();
    router.setEndpoints("blue", [blue.endpoint]);
    const socket = new WebSocket(`${mainUrl(router).replace("http", "ws")}/ws`);
    await new Promise((resolve) => socket.once("message", resolve));
    const slow = request(`${mainUrl(router)}/slow?ms=10000`).catch((error: Error) => error);
    await expect.poll(() => router.inFlight("blue")).toBe(2);
    const socketClosed = new Promise((resolve) => socket.once("close", resolve));
    await router.close();
    await socketClosed;
    expect(await slow).toBeInstanceOf(Error);
    expect(router.inFlight("blue")).toBe(0);
    expect(() => router.address()).toThrow(RouterNotListeningError);
    await blue.stop();
  });
});
