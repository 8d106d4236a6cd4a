import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { Client, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/router.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";
import { closedPort, startUpstream, type TestUpstream } from "../helpers/upstream.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstream(name: string): Promise<TestUpstream> {
  const started = await startUpstream(name);
  cleanups.push(() => started.stop());
  return started;
}

async function router(options: Parameters<typeof startRouter>[0] = {}): Promise<Router> {
  const started = await startRouter(options);
  cleanups.push(() => started.close());
  return started;
}

async function get(url: string): Promise<{ status: number; colour: unknown; body: string }> {
  const response = await request(url);
  return {
    status: response.statusCode,
    colour: response.headers["x-cutover-colour"],
    body: await response.body.text(),
  };
}

function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Router: HTTP proxy", () => {
  it("streams a 5 MB request body to the replica and its echo back", async () => {
    const blue = await upstream("blue-0");
    const r = await router();
    r.setEndpoints("blue", [blue.endpoint]);
    const payload = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const chunks = Array.from({ length: 80 }, (_, i) => payload.subarray(i * 65_536, (i + 1) * 65_536));
    const response = await request(`${mainUrl(r)}/echo`, { method: "POST", body: Readable.from(chunks) });
    const echoed = Buffer.from(await response.body.arrayBuffer());
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-cutover-colour"]).toBe("blue");
    expect(echoed.length).toBe(payload.length);
    expect(createHash("sha256").update(echoed).digest("hex")).toBe(
      createHash("sha256").update(payload).digest("hex"),
    );
  });

  it("passes each request chunk through before the request has ended (no buffering upstream)", async () => {
    const blue = await upstream("blue-0");
    const r = await router();
    r.setEndpoints("blue", [blue.endpoint]);
    const body = new PassThrough();
    body.write("one;");
    const response = await request(`${mainUrl(r)}/echo`, { method: "POST", body });
    const reader = response.body[Symbol.asyncIterator]();
    expect(String((await reader.next()).value)).toBe("one;");
    body.end("two;");
    let rest = "";
    for (let next = await reader.next(); next.done !== true; next = await reader.next())
      rest += String(next.value);
    expect(rest).toBe("two;");
  });

  it("sends the first chunk of an answer before the replica has finished it", async () => {
    const blue = await upstream("blue-0");
    const r = await router();
    r.setEndpoints("blue", [blue.endpoint]);
    const response = await request(`${mainUrl(r)}/hold`);
    const reader = response.body[Symbol.asyncIterator]();
    expect(String((await reader.next()).value)).toBe("first\n");
    expect(r.inFlight("blue")).toBe(1);
    blue.release();
    expect(String((await reader.next()).value)).toBe("rest\n");
    expect((await reader.next()).done).toBe(true);
  });

  it("strips hop-by-hop headers both ways, passes Host and sets X-Forwarded-*", async () => {
    const blue = await upstream("blue-0");
    const r = await router();
    r.setEndpoints("blue", [blue.endpoint]);
    const seen = await rawGet(`${mainUrl(r)}/headers`, {
      host: "shop.example",
      connection: "keep-alive, x-drop-me",
      "x-drop-me": "1",
      "proxy-authorization": "Basic eDp5",
      proxy: "http://evil.example",
      te: "trailers",
      "x-forwarded-for": "203.0.113.7",
      "x-kept": "yes",
    });
    const headers = JSON.parse(seen.body) as Record<string, string>;
    expect(headers.host).toBe("shop.example");
    expect(headers["x-kept"]).toBe("yes");
    expect(headers["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-host"]).toBe("shop.example");
    for (const name of ["x-drop-me", "proxy-authorization", "proxy", "te"])
      expect(headers[name]).toBeUndefined();

    const answer = await rawGet(`${mainUrl(r)}/hop`, {});
    expect(answer.body).toBe("blue-0");
    expect(answer.headers["x-private"]).toBeUndefined();
    expect(answer.headers["proxy-authenticate"]).toBeUndefined();
    expect(answer.headers["x-cutover-colour"]).toBe("blue");
    expect(answer.headers["x-upstream"]).toBe("blue-0");
  });

  it("takes the colour's replicas in turn", async () => {
    const [a, b] = [await upstream("blue-0"), await upstream("blue-1")];
    const r = await router();
    r.setEndpoints("blue", [a.endpoint, b.endpoint]);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push((await get(mainUrl(r))).body);
    expect(names).toEqual(["blue-0", "blue-1", "blue-0", "blue-1", "blue-0", "blue-1"]);
  });

  it("in sticky mode sends each client address to one replica", async () => {
    const [a, b] = [await upstream("blue-0"), await upstream("blue-1")];
    const r = await router({ sticky: true });
    r.setEndpoints("blue", [a.endpoint, b.endpoint]);
    const replicaOf = new Map<string, Set<string>>();
    for (let n = 1; n <= 8; n++) {
      const localAddress = `127.0.0.${n}`;
      const client = new Client(mainUrl(r), { localAddress });
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const response = await client.request({ path: "/", method: "GET" });
        names.add(await response.body.text());
      }
      await client.close();
      replicaOf.set(localAddress, names);
    }
    for (const names of replicaOf.values()) expect(names.size).toBe(1);
    const used = new Set([...replicaOf.values()].flatMap((names) => [...names]));
    expect(used).toEqual(new Set(["blue-0", "blue-1"]));
  });

  it("answers 503 with JSON when the colour has no replica in rotation", async () => {
    const r = await router();
    const response = await request(mainUrl(r));
    expect(response.statusCode).toBe(503);
    expect(response.headers["content-type"]).toBe("application/json");
    const body = (await response.body.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: "no healthy replica", colour: "blue" });
    expect(body.hint).toEqual(expect.any(String));
  });

  it("answers 502 with JSON when the only replica refuses connections", async () => {
    const r = await router();
    r.setEndpoints("blue", [{ id: "gone", host: "127.0.0.1", port: await closedPort() }]);
    const response = await request(mainUrl(r));
    expect(response.statusCode).toBe(502);
    expect(response.headers["x-cutover-colour"]).toBe("blue");
    expect(await response.body.json()).toMatchObject({
      error: "upstream failed",
      colour: "blue",
      detail: "ECONNREFUSED",
    });
  });

  it("answers 504 when the replica sends no answer head in time", async () => {
    const blue = await upstream("blue-0");
    const r = await router({ headersTimeoutMs: 100 });
    r.setEndpoints("blue", [blue.endpoint]);
    const response = await request(`${mainUrl(r)}/slow?ms=2000`);
    expect(response.statusCode).toBe(504);
    expect(await response.body.json()).toMatchObject({ error: "upstream timed out", colour: "blue" });
  });

  it("retries a GET on another replica when its replica was stopped between requests", async () => {
    const [a, b] = [await upstream("blue-0"), await upstream("blue-1")];
    const r = await router();
    r.setEndpoints("blue", [a.endpoint, b.endpoint]);
    for (let i = 0; i < 4; i++) expect((await get(mainUrl(r))).status).toBe(200);
    await a.stop();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(mainUrl(r)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.body))).toEqual(new Set(["blue-1"]));
  });

  it("sends a POST marked with Idempotency-Key, body and all, to another replica when its connection broke under it; an unmarked one gets 502", async () => {
    // A replica that dies with the request in flight: it reads the request, then drops the connection.
    const dying = createNetServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => dying.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => dying.close(() => resolve())));
    const port = (dying.address() as AddressInfo).port;
    const b = await upstream("blue-1");
    const r = await router();
    r.setEndpoints("blue", [{ id: "blue-0", host: "127.0.0.1", port }, b.endpoint]);
    const body = "order 42: ".repeat(500);
    const post = async (headers: Record<string, string>) => {
      // Round robin: the first request of each pair goes to the dying replica.
      const answers = [];
      for (let i = 0; i < 2; i++) {
        const answer = await request(`${mainUrl(r)}/echo`, { method: "POST", headers, body });
        answers.push({ status: answer.statusCode, body: await answer.body.text() });
      }
      return answers;
    };
    expect(await post({ "idempotency-key": "k1" })).toEqual([
      { status: 200, body },
      { status: 200, body },
    ]);
    const unmarked = await post({});
    expect(unmarked.map((a) => a.status).sort()).toEqual([200, 502]);
    const metrics = await r.metrics();
    expect(metrics).toContain(
      'cutover_upstream_failures_total{colour="blue",reason="reset",retried="true"} 1',
    );
    expect(metrics).toContain(
      'cutover_upstream_failures_total{colour="blue",reason="reset",retried="false"} 1',
    );
  });

  it("stops the upstream request when the client goes away", async () => {
    const blue = await upstream("blue-0");
    const r = await router();
    r.setEndpoints("blue", [blue.endpoint]);
    const controller = new AbortController();
    const pending = request(`${mainUrl(r)}/slow?ms=5000`, { signal: controller.signal }).catch(
      (error: Error) => error,
    );
    await expect.poll(() => r.inFlight("blue")).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(() => r.inFlight("blue")).toBe(0);
    expect(await r.metrics()).toContain('cutover_requests_total{colour="blue",status="499"} 1');
  });

  it("reports per-colour counters, durations, in-flight, active colour and switches", async () => {
    const blue = await upstream("blue-0");
    const r = await router();
    r.setEndpoints("blue", [blue.endpoint]);
    for (let i = 0; i < 3; i++) await get(mainUrl(r));
    r.switchTo("green");
    await get(mainUrl(r));
    const text = await r.metrics();
    expect(r.metricsContentType).toContain("text/plain");
    expect(text).toContain('cutover_requests_total{colour="blue",status="200"} 3');
    expect(text).toContain('cutover_requests_total{colour="green",status="503"} 1');
    expect(text).toContain('cutover_request_duration_seconds_count{colour="blue"} 3');
    expect(text).toContain('cutover_in_flight{colour="blue"} 0');
    expect(text).toContain('cutover_active_colour{colour="green"} 1');
    expect(text).toContain('cutover_active_colour{colour="blue"} 0');
    expect(text).toContain("cutover_switches_total 1");
  });
});
