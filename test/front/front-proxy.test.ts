/**
 * The global front as a reverse proxy over real sockets: bodies streamed both ways, X-Forwarded headers,
 * hop-by-hop headers stripped, routing by priority and weight, 503 without a healthy region.
 */
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { REGION_HEADER } from "../../src/front/front-response-headers.js";
import { eventually } from "../helpers/eventually.js";
import { closedPort, startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { frontConfig, regionConfig, startRegion, startTestFront, type TestFront } from "./front-fixtures.js";

const fronts: TestFront[] = [];
const upstreams: TestUpstream[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(fronts.splice(0).map((f) => f.close()));
  await Promise.all(upstreams.splice(0).map((u) => u.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function frontOverUpstream(): Promise<{ front: TestFront; upstream: TestUpstream }> {
  const upstream = await startUpstream("eu");
  upstreams.push(upstream);
  const front = await startTestFront([regionConfig("eu", `http://127.0.0.1:${upstream.port}`)]);
  fronts.push(front);
  await front.allHealthy();
  return { front, upstream };
}

/** Resolves with the next chunk of `stream` as text. */
function nextChunk(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => stream.once("data", (chunk: Buffer) => resolve(chunk.toString())));
}

describe("the global front's proxy", () => {
  it("streams an answer before the region has finished it, and a request body as it is sent", async () => {
    const { front, upstream } = await frontOverUpstream();
    const held = await fetch(`${front.url}/hold`);
    expect(held.headers.get(REGION_HEADER)).toBe("eu");
    const reader = (held.body as ReadableStream<Uint8Array>).getReader();
    // The first line arrives while the region still holds the rest.
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first\n");
    upstream.release();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("rest\n");

    const echo = httpRequest(`${front.url}/echo`, {
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
    });
    const response = await new Promise<import("node:http").IncomingMessage>((resolve) => {
      echo.once("response", resolve);
      echo.write("one ");
    });
    expect(await nextChunk(response)).toBe("one ");
    const second = nextChunk(response);
    echo.write("two");
    expect(await second).toBe("two");
    echo.end();
  });

  it("sets X-Forwarded-For, -Proto and -Host, keeps Host, and strips hop-by-hop headers both ways", async () => {
    const { front } = await frontOverUpstream();
    const seen = await new Promise<Record<string, string>>((resolve, reject) => {
      const req = httpRequest(`${front.url}/headers`, {
        headers: {
          host: "shop.example",
          connection: "keep-alive, x-secret",
          "x-secret": "hop",
          "proxy-authorization": "Basic abc",
          "x-forwarded-for": "203.0.113.7",
          "x-kept": "yes",
        },
      });
      req.once("response", async (res) => {
        let text = "";
        for await (const chunk of res) text += String(chunk);
        resolve(JSON.parse(text) as Record<string, string>);
      });
      req.once("error", reject);
      req.end();
    });
    expect(seen["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe("shop.example");
    expect(seen.host).toBe("shop.example");
    expect(seen["x-kept"]).toBe("yes");
    expect(seen).not.toHaveProperty("x-secret");
    expect(seen).not.toHaveProperty("proxy-authorization");

    const hop = await fetch(`${front.url}/hop`);
    expect(hop.headers.get("x-private")).toBeNull();
    expect(hop.headers.get("proxy-authenticate")).toBeNull();
    // The region's own router names the colour that answered: the front passes it on, and names the region.
    expect(hop.headers.get("x-cutover-colour")).toBe("spoofed");
    expect(hop.headers.get(REGION_HEADER)).toBe("eu");
  });

  it("sends everything to the first healthy region by priority, and fails over when it turns unhealthy", async () => {
    const [eu, us] = [await startRegion("eu"), await startRegion("us")];
    cleanups.push(eu.kill, us.kill);
    // Listed us first, but eu has the lower priority.
    const front = await startTestFront([
      regionConfig("us", us.url, { priority: 2 }),
      regionConfig("eu", eu.url, { priority: 1 }),
    ]);
    fronts.push(front);
    await front.allHealthy();
    const regionOf = async () => (await fetch(front.url)).headers.get(REGION_HEADER);
    for (let i = 0; i < 5; i++) expect(await regionOf()).toBe("eu");
    eu.setHealthy(false);
    await eventually("eu is found unhealthy", () => front.state("eu").healthy === false);
    for (let i = 0; i < 5; i++) expect(await regionOf()).toBe("us");
    expect(front.state("eu").detail).toBe("HTTP 503");
  });

  it("sends a safe request on to the next region when its region answers 503; a POST gets the 503", async () => {
    // eu's probe still passes, but its router answers 503 (no ready replica, or shutting down).
    const unavailable = createServer((req, res) => {
      res.writeHead(req.url === "/health" ? 200 : 503, { "content-type": "text/plain" });
      res.end(req.url === "/health" ? "ok" : "no ready replica");
    });
    await new Promise<void>((resolve) => unavailable.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => unavailable.close(() => resolve())));
    const us = await startRegion("us");
    cleanups.push(us.kill);
    const port = (unavailable.address() as AddressInfo).port;
    const front = await startTestFront([
      regionConfig("eu", `http://127.0.0.1:${port}`, { priority: 1 }),
      regionConfig("us", us.url, { priority: 2 }),
    ]);
    fronts.push(front);
    await front.allHealthy();
    const get = await fetch(front.url);
    expect(get.status).toBe(200);
    expect(get.headers.get(REGION_HEADER)).toBe("us");
    expect(await get.text()).toBe("us");
    const post = await fetch(front.url, { method: "POST", body: "order" });
    expect(post.status).toBe(503);
    expect(post.headers.get(REGION_HEADER)).toBe("eu");
    expect(us.requests).toBe(1);
  });

  it("shares requests by weight with weighted routing", async () => {
    const [eu, us] = [await startRegion("eu"), await startRegion("us")];
    cleanups.push(eu.kill, us.kill);
    const front = await startTestFront(
      [regionConfig("eu", eu.url, { weight: 3 }), regionConfig("us", us.url, { weight: 1 })],
      { config: { routing: "weighted" } },
    );
    fronts.push(front);
    await front.allHealthy();
    for (let i = 0; i < 40; i++) await (await fetch(front.url)).text();
    expect([eu.requests, us.requests]).toEqual([30, 10]);
  });

  it("closes gracefully: stops taking connections, lets the request in flight finish", async () => {
    const { front, upstream } = await frontOverUpstream();
    const held = await fetch(`${front.url}/hold`);
    const reader = (held.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first\n");
    let closed = false;
    const closing = front.close().then(() => {
      closed = true;
    });
    await expect(fetch(front.url)).rejects.toThrow();
    expect(closed).toBe(false);
    upstream.release();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("rest\n");
    await closing;
  });

  it("says which globalFront field to change when its address is taken", async () => {
    const { front, upstream } = await frontOverUpstream();
    const second = startTestFront([regionConfig("eu", `http://127.0.0.1:${upstream.port}`)], {
      config: { listen: front.listen },
    });
    await expect(second).rejects.toThrow(
      /the global front cannot listen: 127\.0\.0\.1:\d+ is already in use .*change globalFront\.listen in cutover\.yaml/,
    );
  });

  it("answers 502 naming the last region tried when every region refuses the connection", async () => {
    const [eu, us] = [await startRegion("eu"), await startRegion("us")];
    // Probed once an hour: both stay healthy in the front's eyes after they die, as between two probes.
    const front = await startTestFront(
      [regionConfig("eu", eu.url, { priority: 1 }), regionConfig("us", us.url, { priority: 2 })],
      { config: { probe: { ...frontConfig().probe, interval: 3_600_000 } } },
    );
    fronts.push(front);
    await front.allHealthy();
    await Promise.all([eu.kill(), us.kill()]);
    const response = await fetch(front.url);
    // eu refused, the request went on to us, which refused too: the router's 502, no Retry-After (the edge
    // answers 503 there instead, for a service that is not up).
    expect(response.status).toBe(502);
    expect(response.headers.get("retry-after")).toBeNull();
    expect(response.headers.get(REGION_HEADER)).toBeNull();
    expect(await response.text()).toBe("region us failed: ECONNREFUSED\n");
  });

  it("passes a region's HTTP/1.1 trailers on to the client", async () => {
    const region = createServer((req, res) => {
      if (req.url === "/health") {
        res.end("ok");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum" });
      res.write("body");
      res.addTrailers({ "x-checksum": "c0ffee", "x-timing": "db;dur=3" });
      res.end();
    });
    await new Promise<void>((resolve) => region.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      region.closeAllConnections();
      await new Promise<void>((resolve) => region.close(() => resolve()));
    });
    const front = await startTestFront([
      regionConfig("eu", `http://127.0.0.1:${(region.address() as AddressInfo).port}`),
    ]);
    fronts.push(front);
    await front.allHealthy();
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) =>
      httpRequest(`${front.url}/`).once("response", resolve).once("error", reject).end(),
    );
    let body = "";
    for await (const chunk of res) body += String(chunk);
    expect(body).toBe("body");
    expect(res.trailers).toEqual({ "x-checksum": "c0ffee", "x-timing": "db;dur=3" });
  });

  it("answers 503 with a short plain message when no region is healthy", async () => {
    const front = await startTestFront([regionConfig("eu", `http://127.0.0.1:${await closedPort()}`)]);
    fronts.push(front);
    await eventually("eu is found unhealthy", () => front.state("eu").healthy === false);
    const response = await fetch(front.url);
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await response.text()).toBe("no healthy region to send the request to; retry shortly\n");
    expect(front.state("eu").detail).toBe("ECONNREFUSED");
  });
});
