import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import { WARM_CONNECTIONS } from "../../src/router/warm-sockets.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";

/** A real HTTP replica that keeps the connections it accepted and the socket each request came on. */
interface CountingReplica {
  readonly endpoint: Endpoint;
  /** Connections accepted and still open. */
  readonly open: Set<Socket>;
  /** The connection each request arrived on, in order. */
  readonly requestSockets: Socket[];
  stop(): Promise<void>;
}

async function startCountingReplica(name: string): Promise<CountingReplica> {
  const open = new Set<Socket>();
  const requestSockets: Socket[] = [];
  const server: Server = createServer((req, res) => {
    requestSockets.push(req.socket);
    res.end(name);
  });
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: { id: name, host: "127.0.0.1", port },
    open,
    requestSockets,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("Router: warm connections to the replicas", () => {
  it("holds idle connections open to the idle colour before any request, uses them after the switch, and closes them when the replica leaves", async () => {
    const blue = await startCountingReplica("blue-0");
    const green = await startCountingReplica("green-0");
    cleanups.push(blue.stop, green.stop);
    const router = await startRouter({ warmConnections: WARM_CONNECTIONS });
    cleanups.push(() => router.close());
    router.setEndpoints("blue", [blue.endpoint]);
    router.setEndpoints("green", [green.endpoint]);

    // No request has gone to green (the idle colour), yet it holds the router's warm connections: no more.
    await expect.poll(() => green.open.size).toBe(WARM_CONNECTIONS);
    expect(green.requestSockets).toHaveLength(0);
    // They carry no request: a drain of green has nothing to wait for.
    expect(await router.drain("green", 1_000)).toEqual({ completed: 0, cancelled: 0 });

    const warm = new Set(green.open);
    router.switchTo("green");
    const answer = await request(`${mainUrl(router)}/`);
    expect(await answer.body.text()).toBe("green-0");
    // The first request after the switch went over a connection opened before it was sent.
    expect(green.requestSockets).toHaveLength(1);
    expect(warm.has(green.requestSockets[0] as Socket)).toBe(true);
    // The one taken is replaced: the pool's connection plus a full set of warm ones.
    await expect.poll(() => green.open.size).toBe(WARM_CONNECTIONS + 1);

    // The replica leaves the rotation: its warm connections and its idle pool connection close.
    router.setEndpoints("green", []);
    await expect.poll(() => green.open.size).toBe(0);
    // Blue, still in rotation, keeps its warm ones.
    expect(blue.open.size).toBe(WARM_CONNECTIONS);
  });

  it("opens warm connections to a replica added to a colour, and none by default", async () => {
    const added = await startCountingReplica("green-1");
    const cold = await startCountingReplica("blue-9");
    cleanups.push(added.stop, cold.stop);
    const router = await startRouter({ warmConnections: WARM_CONNECTIONS });
    cleanups.push(() => router.close());
    router.setEndpoints("green", [added.endpoint]);
    await expect.poll(() => added.open.size).toBe(WARM_CONNECTIONS);

    const noWarmth = await startRouter();
    cleanups.push(() => noWarmth.close());
    noWarmth.setEndpoints("green", [cold.endpoint]);
    noWarmth.switchTo("green");
    // The replica's first connection is the one its first request opens.
    expect(await (await request(`${mainUrl(noWarmth)}/`)).body.text()).toBe("blue-9");
    expect(cold.open.size).toBe(1);
  });
});
