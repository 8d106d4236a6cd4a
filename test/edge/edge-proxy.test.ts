/**
 * The edge in this process, in front of stand-ins for services' routers (plain HTTP servers that answer their
 * name): routing by host and path prefix, the forwarding headers, a service that is down, bodies streamed,
 * WebSockets tunnelled, metrics per service, and a graceful stop.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { SERVICE_HEADER } from "../../src/edge/edge-proxy.js";
import { freePort } from "../helpers/project.js";
import { closedPort, startUpstream, type TestUpstream } from "../helpers/upstream.js";
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
    const { edge: started } = await twoServices();
    edges.splice(0);
    const slow = send(started.port, "alpha.test", "/slow?ms=800");
    // The request has reached the service (it is in flight) before the stop begins.
    await waitFor(() => upstreams[0]?.requests === 1);
    const closing = started.close();
    await waitFor(async () => (await send(started.port, "alpha.test").catch(() => null)) === null);
    const answer = await slow;
    expect([answer.status, answer.body]).toEqual([200, "alpha"]);
    await closing;
  });
});

async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(10);
  }
}
