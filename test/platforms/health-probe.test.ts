/**
 * GET health.path over HTTP/1.1 (probeHealth): on real servers on loopback, what passes, what fails and how
 * the failure is told, and how connections are used: one per check without an agent, else one kept, and a
 * kept one the replica closes as it is reused is not taken for the replica's failure.
 */
import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { probeHealth } from "../../src/platforms/local/health-probe.js";

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function app(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  const connections: Socket[] = [];
  const server = createServer(handler);
  server.on("connection", (socket) => {
    connections.push(socket);
    sockets.push(socket);
  });
  return { server, connections };
}

const target = (port: number, path = "/health") => ({ host: "127.0.0.1", port, path, timeoutMs: 500 });

describe("probeHealth over HTTP/1.1", () => {
  it("passes on any 2xx, also without reading a long body", async () => {
    const { server } = app((request, response) => {
      response.writeHead(request.url === "/health" ? 204 : 200).end("x".repeat(1_000_000));
    });
    const port = await listening(server);
    expect(await probeHealth(target(port))).toEqual({ ok: true });
    expect(await probeHealth(target(port, "/ready"))).toEqual({ ok: true });
  });

  it("fails on another status, told with the start of the body on one line", async () => {
    const { server } = app((request, response) => {
      if (request.url === "/long") response.writeHead(500).end(`${"y".repeat(150)}\n${"z".repeat(10_000)}`);
      else response.writeHead(503, { "content-type": "application/json" }).end('{"status": "unhealthy"}\n');
    });
    const port = await listening(server);
    expect(await probeHealth(target(port))).toEqual({
      ok: false,
      problem: 'GET /health answered 503: {"status": "unhealthy"}',
    });
    const long = await probeHealth(target(port, "/long"));
    expect(long).toEqual({
      ok: false,
      problem: `GET /long answered 500: ${"y".repeat(150)} ${"z".repeat(49)}`,
    });
  });

  it("says a refused connection and a server that never answers (timed out) apart", async () => {
    const closed = await listening(createTcpServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    expect(await probeHealth(target(closed))).toEqual({
      ok: false,
      problem: `GET /health failed: connect ECONNREFUSED 127.0.0.1:${closed}`,
    });
    const silent = createTcpServer((socket) => sockets.push(socket)); // accepts, reads, never answers
    const port = await listening(silent);
    const began = performance.now();
    expect(await probeHealth(target(port))).toEqual({
      ok: false,
      problem: "GET /health timed out after 500ms",
    });
    // The timeout is the check's whole deadline: not much later than 500 ms, even on a busy machine.
    expect(performance.now() - began).toBeLessThan(5_000);
  });

  it("without an agent, opens a connection for each check and closes it after the answer", async () => {
    const { server, connections } = app((_request, response) => response.writeHead(200).end("ok"));
    const port = await listening(server);
    for (let i = 0; i < 3; i += 1) expect(await probeHealth(target(port))).toEqual({ ok: true });
    expect(connections).toHaveLength(3);
    await Promise.all(
      connections.map((socket) =>
        socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once("close", resolve)),
      ),
    );
    expect(connections.every((socket) => socket.destroyed)).toBe(true);
  });

  it("with a keep-alive agent, checks share one connection", async () => {
    const agent = new Agent({ keepAlive: true });
    const { server, connections } = app((_request, response) => response.writeHead(200).end("ok"));
    const port = await listening(server);
    for (let i = 0; i < 5; i += 1)
      expect(await probeHealth({ ...target(port), agent })).toEqual({ ok: true });
    expect(connections).toHaveLength(1);
    agent.destroy();
  });

  it("a kept connection closed by the replica as it is reused: asked again on a new one, and passes", async () => {
    const agent = new Agent({ keepAlive: true });
    let accepted = 0;
    // Answers the first request of each connection and keeps it open; a second request on the same
    // connection is met by closing it, as a replica does whose idle timeout ends as the check arrives.
    const replica = createTcpServer((socket) => {
      accepted += 1;
      sockets.push(socket);
      let requests = 0;
      socket.on("data", () => {
        requests += 1;
        if (requests === 1)
          socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok");
        else socket.destroy();
      });
    });
    const port = await listening(replica);
    expect(await probeHealth({ ...target(port), agent })).toEqual({ ok: true });
    expect(await probeHealth({ ...target(port), agent })).toEqual({ ok: true });
    expect(accepted).toBe(2);
    // Without a kept connection there is nothing to ask again: a replica that closes a fresh one fails.
    const rude = createTcpServer((socket) => socket.on("data", () => socket.destroy()));
    const rudePort = await listening(rude);
    expect(await probeHealth({ ...target(rudePort), agent })).toEqual({
      ok: false,
      problem: "GET /health failed: socket hang up",
    });
    agent.destroy();
  });
});
