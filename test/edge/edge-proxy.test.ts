/**
 * The edge in this process, in front of stand-ins for services' routers (plain HTTP servers that answer their
 * name): routing by host and path prefix, the forwarding headers, a service that is down, bodies streamed,
 * WebSockets tunnelled, metrics per service, and a graceful stop.
 */
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { SERVICE_HEADER } from "../../src/edge/edge-proxy.js";
import { freePort } from "../helpers/project.js";
import { closedPort, startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { startClosingWebSocket } from "./closing-websocket.js";
import { send, startTestEdge, type TestEdge } from "./edge-fixtures.js";

const edges: TestEdge[] = [];
const upstreams: TestUpstream[] = [];
afterEach(async () => {
  await Promise.all(edges.splice(0).map((edge) => edge.close()));
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.stop()));
});

async function upstream(name: string): Promise<TestUpstream> {
  const started = await startUpstream(name);
  upstreams.push(started);
  return started;
}

async function edge(body: string): Promise<TestEdge> {
  const started = await startTestEdge(`drainTimeout: 5s\n${body}`);
  edges.push(started);
  return started;
}

/** Two services, alpha (alpha.test, and its /api on api-alpha) and beta (beta.test and *.beta.test). */
async function twoServices(): Promise<{ edge: TestEdge; alpha: TestUpstream; beta: TestUpstream }> {
  const [alpha, beta, api] = [await upstream("alpha"), await upstream("beta"), await upstream("alpha-api")];
  const started = await edge(`services:
  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test] }
  - { name: alpha-api, upstream: 127.0.0.1:${api.port}, hosts: [alpha.test], pathPrefix: /api, stripPrefix: true }
  - { name: beta, upstream: 127.0.0.1:${beta.port}, hosts: [beta.test, "*.beta.test"] }
`);
  return { edge: started, alpha, beta };
}

/** Resolves with the next chunk of `stream` as text. */
function nextChunk(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => stream.once("data", (chunk: Buffer) => resolve(chunk.toString())));
}

describe("the edge's proxy", () => {
  it("sends each host to its own service, the longest path prefix first, and names the service", async () => {
    const { edge } = await twoServices();
    const alpha = await send(edge.port, "ALPHA.test:8080");
    expect([alpha.status, alpha.body, alpha.headers[SERVICE_HEADER]]).toEqual([200, "alpha", "alpha"]);
    expect((await send(edge.port, "beta.test")).body).toBe("beta");
    expect((await send(edge.port, "eu.beta.test")).body).toBe("beta");
    expect((await send(edge.port, "alpha.test", "/apiary")).body).toBe("alpha");
    // stripPrefix: /api/headers reaches alpha-api as /headers, which answers the headers it got.
    const api = await send(edge.port, "alpha.test", "/api/headers");
    expect(api.headers[SERVICE_HEADER]).toBe("alpha-api");
    expect(JSON.parse(api.body).host).toBe("alpha.test");
  });

  it("answers 421 for a host no service has, naming it, and 404 for a path its services do not take", async () => {
    const [alpha] = [await upstream("alpha")];
    const started = await edge(
      `services:\n  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test], pathPrefix: /shop }\n`,
    );
    const unknown = await send(started.port, "gamma.test");
    expect(unknown.status).toBe(421);
    expect(unknown.body).toBe("no service on this edge answers for host gamma.test\n");
    const path = await send(started.port, "alpha.test", "/blog?x=1");
    expect(path.status).toBe(404);
    expect(path.body).toBe("no service on this edge answers for /blog on host alpha.test\n");
    expect(alpha.requests).toBe(0);
  });

  it("sets X-Forwarded-Proto and -Host from its own view, whatever the client claims, and appends X-Forwarded-For", async () => {
    const { edge } = await twoServices();
    const answer = await send(edge.port, "alpha.test", "/api/headers", {
      headers: {
        "x-forwarded-proto": "https",
        "x-forwarded-host": "evil.test",
        "x-forwarded-for": "203.0.113.9",
      },
    });
    const seen = JSON.parse(answer.body) as Record<string, string>;
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe("alpha.test");
    expect(seen["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
  });

  it("answers 503 with Retry-After for the hosts of a service that is down, and only for them", async () => {
    const alpha = await upstream("alpha");
    const started = await edge(`services:
  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test] }
  - { name: beta, upstream: 127.0.0.1:${await closedPort()}, hosts: [beta.test] }
`);
    const beta = await send(started.port, "beta.test");
    expect(beta.status).toBe(503);
    expect(beta.headers["retry-after"]).toBe("1");
    expect(beta.headers[SERVICE_HEADER]).toBeUndefined();
    expect(beta.body).toBe(
      "service beta is not reachable (ECONNREFUSED); it is not running now; retry shortly\n",
    );
    expect((await send(started.port, "alpha.test")).body).toBe("alpha");
  });

  it("streams an answer as the service sends it, and a request body as the client sends it", async () => {
    const { edge, alpha } = await twoServices();
    const held = await new Promise<IncomingMessage>((resolve) =>
      httpRequest(
        { port: edge.port, host: "127.0.0.1", path: "/hold", headers: { host: "alpha.test" } },
        resolve,
      ).end(),
    );
    // The first line arrives while the service still holds the rest.
    expect(await nextChunk(held)).toBe("first\n");
    alpha.release();
    expect(await nextChunk(held)).toBe("rest\n");

    const echo = httpRequest({
      port: edge.port,
      host: "127.0.0.1",
      path: "/api/echo",
      method: "POST",
      headers: { host: "alpha.test", "transfer-encoding": "chunked" },
    });
    const response = await new Promise<IncomingMessage>((resolve) => {
      echo.once("response", resolve);
      echo.write("one ");
    });
    expect(await nextChunk(response)).toBe("one ");
    const second = nextChunk(response);
    echo.write("two");
    expect(await second).toBe("two");
    echo.end();
  });

  it("tunnels a WebSocket to the service its host names; one to a service that is down gets 503", async () => {
    const alpha = await upstream("alpha");
    const started = await edge(`services:
  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test] }
  - { name: beta, upstream: 127.0.0.1:${await closedPort()}, hosts: [beta.test] }
`);
    const socket = new WebSocket(`ws://127.0.0.1:${started.port}/ws`, { headers: { host: "alpha.test" } });
    const messages: string[] = [];
    socket.on("message", (data) => messages.push(String(data)));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send("ping");
    await waitFor(() => messages.length >= 2);
    expect(messages).toEqual(["hello from alpha", "alpha: ping"]);
    socket.close();

    const refused = new WebSocket(`ws://127.0.0.1:${started.port}/ws`, { headers: { host: "beta.test" } });
    const status = await new Promise<number>((resolve) =>
      refused.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(503);
    // terminate() of a socket whose handshake was refused reports "closed before the connection was
    // established" as an error event: expected here.
    refused.on("error", () => undefined);
    refused.terminate();
  });

  it("counts requests per service and outcome on its metrics listener", async () => {
    const alpha = await upstream("alpha");
    const started = await edge(`metrics: 127.0.0.1:${await freePort()}
services:
  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test] }
  - { name: beta, upstream: 127.0.0.1:${await closedPort()}, hosts: [beta.test] }
`);
    await send(started.port, "alpha.test");
    await send(started.port, "alpha.test");
    await send(started.port, "beta.test");
    await send(started.port, "gamma.test");
    const text = await (await fetch(`http://127.0.0.1:${started.metrics?.port}/metrics`)).text();
    expect(text).toContain('cutover_edge_requests_total{service="alpha",outcome="answered"} 2');
    expect(text).toContain('cutover_edge_requests_total{service="beta",outcome="failed"} 1');
    expect(text).toContain('cutover_edge_requests_total{service="none",outcome="misdirected"} 1');
  });

  it("stops accepting on close, lets a request in flight finish, and then closes", async () => {
    const { edge: started, alpha } = await twoServices();
    edges.splice(0);
    // /hold sends its first line at once and the rest only once released: while the client has the first
    // line and not the rest, the request is in flight, however slow the machine.
    const held = await new Promise<IncomingMessage>((resolve) =>
      httpRequest(
        { port: started.port, host: "127.0.0.1", path: "/hold", headers: { host: "alpha.test" } },
        resolve,
      ).end(),
    );
    expect(await nextChunk(held)).toBe("first\n");
    const closing = started.close();
    await waitFor(async () => (await send(started.port, "alpha.test").catch(() => null)) === null);
    alpha.release();
    // All of it, to its end: finished, not cancelled (a cancelled answer is cut short, an error here).
    expect(await restOf(held)).toBe("rest\n");
    await closing;
  });

  it("answers 400 to a path with a dot-segment or an encoded slash or dot, and sends it to no service", async () => {
    const { edge, alpha } = await twoServices();
    for (const path of ["/api/../admin", "/api%2F..%2Fadmin", "/api/%2E%2e/admin", "/api/.."]) {
      const answer = await send(edge.port, "alpha.test", path);
      expect([path, answer.status, answer.headers[SERVICE_HEADER]]).toEqual([path, 400, undefined]);
      expect(answer.body).toMatch(/^the path \/api.* has (a dot-segment|an encoded slash or dot)/);
    }
    const dotSegment = await send(edge.port, "alpha.test", "/api/../admin?x=1");
    expect(dotSegment.body).toBe(
      "the path /api/../admin has a dot-segment (/./ or /../); send the path it resolves to (as browsers do)\n",
    );
    // A WebSocket upgrade is refused the same way (sent by hand: a WebSocket client resolves the path first).
    const upgrade = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest({
        port: edge.port,
        host: "127.0.0.1",
        path: "/api/../ws",
        headers: {
          host: "alpha.test",
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      })
        .once("response", resolve)
        .once("upgrade", () => reject(new Error("the upgrade went through")))
        .once("error", reject)
        .end(),
    );
    expect(upgrade.statusCode).toBe(400);
    expect(await restOf(upgrade)).toMatch(/^the path \/api\/\.\.\/ws has a dot-segment/);
    expect(alpha.requests).toBe(0);
  });

  it("passes a WebSocket's last large message and its close frame on when the service closes first", async () => {
    // 16 MiB, read slowly: the tunnel is held back by its client most of the way (edge-tunnel.test.ts shows
    // the last bytes wait for a slow client deterministically; on loopback the kernel takes them at once).
    const size = 16 * 1024 * 1024;
    const service = await startClosingWebSocket(size);
    const started = await edge(
      `services:\n  - { name: alpha, upstream: 127.0.0.1:${service.port}, hosts: [alpha.test] }\n`,
    );
    try {
      const received = await slowWebSocketRead(started.port, "alpha.test");
      const head = received.indexOf("\r\n\r\n") + 4;
      expect(received.subarray(0, 12).toString()).toBe("HTTP/1.1 101");
      // All of the message (a 10-byte frame head, then its bytes), then the close frame with code 1000.
      expect(received.length - head).toBe(10 + size + 4);
      expect([...received.subarray(received.length - 4)]).toEqual([0x88, 2, 0x03, 0xe8]);
    } finally {
      await service.close();
    }
  });

  it("passes a service's HTTP/1.1 trailers on to the client", async () => {
    const service = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum" });
      res.write("body");
      res.addTrailers({ "x-checksum": "c0ffee" });
      res.end();
    });
    await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
    try {
      const port = (service.address() as AddressInfo).port;
      const started = await edge(
        `services:\n  - { name: alpha, upstream: 127.0.0.1:${port}, hosts: [alpha.test] }\n`,
      );
      const res = await new Promise<IncomingMessage>((resolve) =>
        httpRequest(
          { port: started.port, host: "127.0.0.1", headers: { host: "alpha.test" } },
          resolve,
        ).end(),
      );
      expect(await restOf(res)).toBe("body");
      expect(res.trailers).toEqual({ "x-checksum": "c0ffee" });
    } finally {
      service.closeAllConnections();
      await new Promise<void>((resolve) => service.close(() => resolve()));
    }
  });
});

/** The rest of `stream` as text, once it has ended; rejects if it is cut short. */
function restOf(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    stream.once("end", () => resolve(text));
    stream.once("error", reject);
    stream.once("aborted", () => reject(new Error("the answer was cut short")));
  });
}

/**
 * Opens a WebSocket through the edge at `port` by hand and reads everything it is sent, slowly (one read per
 * turn of the event loop, the edge in the same process), up to the edge's FIN. Rejects on a reset: the
 * connection must end cleanly.
 */
function slowWebSocketRead(port: number, host: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: "127.0.0.1" }, () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nhost: ${host}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ),
    );
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      socket.pause();
      setImmediate(() => socket.resume());
    });
    socket.once("end", () => {
      resolve(Buffer.concat(chunks));
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(10);
  }
}
