/**
 * Closing the edge's servers at once, as a start that failed part way does: an HTTP/2 server whose client
 * keeps its session open must not hold the close (it cannot close its connections itself).
 */
import type { Server } from "node:http";
import { connect, createServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionTracker, closeAtOnce } from "../../src/edge/graceful-close.js";
import { trackConnections } from "../../src/router/listen.js";

describe("closing the edge's servers at once", () => {
  it("closes an HTTP/2 server whose client keeps a session and a stream open", async () => {
    const server = createServer((_req, res) => res.writeHead(200).write("first\n")) as unknown as Server;
    const connections = new ConnectionTracker();
    connections.track(server);
    trackConnections(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on("error", () => undefined);
    const sessionClosed = new Promise<void>((resolve) => session.once("close", resolve));
    // An answer begun and never ended: the stream and its session stay open until the server goes.
    const stream = session.request({ ":path": "/" });
    stream.on("error", () => undefined);
    await new Promise((resolve) => stream.once("data", resolve));
    await closeAtOnce([server], connections);
    expect(server.listening).toBe(false);
    await sessionClosed;
  });
});
