/** The WebSocket client the fault drill and the tests share, against a real `ws` server on loopback. */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { openWebSocket } from "../../src/verify/websocket-client.js";

let server: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

describe("the shared WebSocket client", () => {
  it("keeps a message that comes after a read timed out, for the next read", async () => {
    const sockets: import("ws").WebSocket[] = [];
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    server.on("connection", (socket) => {
      sockets.push(socket);
      socket.on("message", (text) => socket.send(`echo: ${text}`));
    });
    await new Promise((resolve) => server?.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const client = await openWebSocket(`ws://127.0.0.1:${port}/`);
    expect(await client.next(50)).toBeNull();
    sockets[0]?.send("late");
    expect(await client.next(2_000)).toBe("late");
    expect(await client.exchange("hi", 2_000)).toBe("echo: hi");
    client.socket.close();
    expect((await client.closed).code).toBe(1005);
  });
});
