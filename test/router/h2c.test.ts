/**
 * h2c upstreams (router.upstreamProtocol: h2c): gRPC through the router's TLS listener to replicas that speak
 * HTTP/2 cleartext, with the router's guarantees: status and trailers intact, the atomic switch, drain of a
 * stream in flight on the old colour, per-colour metrics, and an error status (no hang) when a replica dies
 * mid-stream. Real processes: grpc-app.mjs (@grpc/grpc-js, grpc-health-check) as the replicas, grpc-js as the
 * client; a plain node:http2 server for HTTP/1.1 clients.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Client, ClientReadableStream } from "@grpc/grpc-js";
import { pino } from "pino";
import { fetch } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/router.js";
import { TlsCertificates } from "../../src/router/tls-certificates.js";
import { eventually } from "../helpers/eventually.js";
import {
  coloursClient,
  count,
  type GrpcApp,
  startGrpcApp,
  startH2cApp,
  type WhoReply,
  who,
} from "../helpers/grpc-app.js";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";

const dir = mkdtempSync(join(tmpdir(), "cutover-h2c-"));
const apps: GrpcApp[] = [];
const routers: Router[] = [];
const clients: Client[] = [];
const servers: Http2Server[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const router of routers.splice(0)) await router.close();
  await Promise.all(apps.splice(0).map((app) => app.stop("SIGKILL")));
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A router over TLS with h2c upstreams, grpc-app replicas for blue and green, and a gRPC client through it. */
async function grpcRouter(options: { blue?: number; headersTimeoutMs?: number } = {}) {
  const { cert, key } = await loopbackCertificate();
  writeFileSync(join(dir, "cert.pem"), cert);
  writeFileSync(join(dir, "key.pem"), key);
  const blue = await Promise.all(
    Array.from({ length: options.blue ?? 1 }, (_, i) => startGrpcApp(i === 0 ? "blue" : `blue-${i}`)),
  );
  const green = await startGrpcApp("green");
  apps.push(...blue, green);
  const router = await startRouter({
    upstreamProtocol: "h2c",
    ...(options.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: options.headersTimeoutMs }),
    tls: new TlsCertificates(
      [{ cert: join(dir, "cert.pem"), key: join(dir, "key.pem") }],
      pino({ enabled: false }),
    ),
  });
  routers.push(router);
  router.setEndpoints(
    "blue",
    blue.map((app) => app.endpoint),
  );
  router.setEndpoints("green", [green.endpoint]);
  const client = coloursClient(`127.0.0.1:${router.address().port}`, cert);
  clients.push(client);
  return { router, client, blue, green, ca: cert };
}

const metric = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);

describe("gRPC through the router to h2c replicas", () => {
  it("passes unary and server-streaming calls through, with their status, headers and trailers intact", async () => {
    const { router, client } = await grpcRouter();
    const unary = await who(client, "hello");
    expect(unary.reply).toMatchObject({ replica: "blue", version: "blue-1", echo: "hello" });
    expect(unary.headers["x-cutover-colour"]).toBe("blue");
    expect(unary.trailers["x-answered-by"]).toBe("blue");

    // A status other than OK, sent by the replica as one HEADERS frame (trailers-only), reaches the client whole.
    const failed = await who(client, "fail").catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 5, details: "no such name: fail" });
    expect((failed as { metadata: { get(k: string): unknown[] } }).metadata.get("x-answered-by")).toEqual([
      "blue",
    ]);

    // A body larger than HTTP/2's initial flow-control window, both ways.
    const large = "x".repeat(1024 * 1024);
    expect((await who(client, large)).reply.echo.length).toBe(large.length);

    const stream = await count(client, { count: 20, intervalMs: 5 });
    expect(stream.status.code).toBe(0);
    expect(stream.replies.map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(stream.replies.every((r) => r.replica === "blue")).toBe(true);
    expect(stream.status.metadata.get("x-answered-by")).toEqual(["blue"]);

    const metrics = await router.metrics();
    expect(metric(metrics, /cutover_requests_total\{colour="blue",status="200"\} (\d+)/)).toBe(4);
    expect(router.inFlight("blue")).toBe(0);
  });

  it("a switch under gRPC load: 0 failed calls, every call started after the switch answered by green, and a stream on blue drains to its end", async () => {
    const { router, client } = await grpcRouter();
    let switchedAt = Number.POSITIVE_INFINITY;
    let running = true;
    const answers: { sentAt: number; replica: string; colour: unknown }[] = [];
    const failures: string[] = [];
    const worker = async () => {
      while (running) {
        const sentAt = performance.now();
        try {
          const answer = await who(client, "load");
          answers.push({ sentAt, replica: answer.reply.replica, colour: answer.headers["x-cutover-colour"] });
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 10 }, worker);
    await eventually("200 calls were answered before the switch", () => answers.length >= 200, 30_000);
    // A stream that runs across the switch: the switch comes with its first answer, so (on a machine however
    // busy) it is in flight on blue then, with 19 more answers at least 50 ms apart to come.
    let drained: ReturnType<Router["drain"]> | undefined;
    const long = count(client, { count: 20, intervalMs: 50 }, () => {
      if (drained !== undefined) return;
      router.switchTo("green");
      switchedAt = performance.now();
      drained = router.drain("blue", 20_000);
    });
    await eventually("the switch came with the stream's first answer", () => drained !== undefined, 10_000);
    const before = answers.length;
    await eventually(
      "200 calls were answered after the switch",
      () => answers.length >= before + 200,
      30_000,
    );
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    const late = answers.filter((a) => a.sentAt > switchedAt);
    expect(late.length).toBeGreaterThanOrEqual(190);
    expect(late.every((a) => a.replica === "green" && a.colour === "green")).toBe(true);

    const stream = await long;
    expect(stream.status.code).toBe(0);
    expect(stream.replies).toHaveLength(20);
    expect(stream.replies.every((r) => r.replica === "blue")).toBe(true);
    // The stream, and any unary call that was in flight on blue at the switch, all finished there.
    const drain = await (drained as ReturnType<Router["drain"]>);
    expect(drain.cancelled).toBe(0);
    expect(drain.completed).toBeGreaterThanOrEqual(1);
    const metrics = await router.metrics();
    expect(metric(metrics, /cutover_requests_total\{colour="green",status="200"\} (\d+)/)).toBeGreaterThan(0);
    expect(metrics).not.toMatch(/cutover_requests_total\{colour="(blue|green)",status="5\d\d"\}/);
  }, 90_000);

  it("a replica that dies mid-stream: the client gets UNAVAILABLE at once, and the failure is counted", async () => {
    const { router, client, blue } = await grpcRouter();
    const replies: number[] = [];
    const started = performance.now();
    const stream = count(client, { count: 1_000, intervalMs: 20 }, (reply) => replies.push(reply.n));
    await eventually("three answers arrived", () => replies.length >= 3, 10_000);
    await blue[0]?.stop("SIGKILL");
    const { status } = await stream;
    // Far below the call's 30 s deadline: the end of the replica is noticed, not waited out.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(status.code).toBe(14); // UNAVAILABLE
    expect(status.details).toMatch(/cutover: the replica failed mid-answer/);
    expect(replies.length).toBeLessThan(1_000);
    const metrics = await router.metrics();
    expect(metrics).toMatch(/cutover_requests_total\{colour="blue",status="502"\} 1/);
    expect(metrics).toMatch(
      /cutover_upstream_failures_total\{colour="blue",reason="reset",retried="false"\} 1/,
    );
    expect(router.inFlight("blue")).toBe(0);

    // A call to the dead replica now is refused before anything is sent: answered 502, which gRPC calls UNAVAILABLE.
    const refused = await who(client, "after").catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 14 });
    expect(
      metric(
        await router.metrics(),
        /cutover_upstream_failures_total\{colour="blue",reason="connect",retried="false"\} (\d+)/,
      ),
    ).toBe(1);
  }, 60_000);

  it("a stream that outlives the drain after a switch is ended with UNAVAILABLE and counted as drained (503)", async () => {
    const { router, client } = await grpcRouter();
    const replies: number[] = [];
    const stream = count(client, { count: 1_000, intervalMs: 20 }, (reply) => replies.push(reply.n));
    await eventually("the stream is in flight on blue", () => replies.length > 0, 10_000);
    router.switchTo("green");
    expect(await router.drain("blue", 200)).toEqual({ completed: 0, cancelled: 1 });
    const { status } = await stream;
    expect(status.code).toBe(14);
    expect(status.details).toMatch(/outlived the drain/);
    expect(await router.metrics()).toMatch(/cutover_requests_total\{colour="blue",status="503"\} 1/);
  });

  it("a call the client cancels is cancelled at the replica too and counted 499", async () => {
    const { router, client, blue } = await grpcRouter();
    const replies: number[] = [];
    const call = (
      client as unknown as Record<string, (request: object) => ClientReadableStream<WhoReply>>
    ).count?.({
      count: 1_000,
      intervalMs: 20,
    });
    call?.on("data", (reply: WhoReply) => replies.push(reply.n));
    call?.on("error", () => undefined);
    await eventually("the stream is in flight", () => replies.length > 0, 10_000);
    call?.cancel();
    await eventually(
      "the replica saw the call cancelled",
      () => /Count cancelled/.test(blue[0]?.output() ?? ""),
      10_000,
    );
    await eventually("nothing is in flight on blue", () => router.inFlight("blue") === 0, 10_000);
    expect(await router.metrics()).toMatch(/cutover_requests_total\{colour="blue",status="499"\} 1/);
  });

  it("an answer slower than the router's headers timeout: 504, which gRPC clients see as UNAVAILABLE", async () => {
    const { router, client } = await grpcRouter({ headersTimeoutMs: 300 });
    const timedOut = await who(client, "sleep:3000").catch((error: unknown) => error);
    expect(timedOut).toMatchObject({ code: 14, details: expect.stringMatching(/504/) });
    const metrics = await router.metrics();
    expect(metrics).toMatch(
      /cutover_upstream_failures_total\{colour="blue",reason="timeout",retried="false"\} 1/,
    );
    expect(metrics).toMatch(/cutover_requests_total\{colour="blue",status="504"\} 1/);
  });

  it("a call refused by a dead replica is sent to another replica of the colour (it never left)", async () => {
    const { router, client, blue } = await grpcRouter({ blue: 2 });
    await blue[1]?.stop("SIGKILL");
    const answers = await Promise.all(Array.from({ length: 10 }, () => who(client, "retry")));
    expect(answers.every((a) => a.reply.replica === "blue")).toBe(true);
    const metrics = await router.metrics();
    expect(
      metric(
        metrics,
        /cutover_upstream_failures_total\{colour="blue",reason="connect",retried="true"\} (\d+)/,
      ),
    ).toBeGreaterThan(0);
    expect(metrics).not.toMatch(/status="5\d\d"/);
  });
});

describe("h2c replicas and HTTP/1.1 clients", () => {
  it("an HTTP/1.1 client reaches a plain HTTP/2 cleartext server: body both ways, Host and X-Forwarded-* passed, hop-by-hop dropped", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/echo") {
        res.writeHead(200, { "content-type": "text/plain", "x-seen-method": req.method });
        req.pipe(res);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.headers));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const router = await startRouter({ upstreamProtocol: "h2c" });
    routers.push(router);
    router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port }]);
    const url = mainUrl(router);

    // node:http lets a client send hop-by-hop fields (fetch refuses to): a header the Connection header names.
    const answer = await new Promise<{ colour: unknown; body: string }>((resolve, reject) => {
      const headers = { "x-custom": "kept", connection: "keep-alive, x-hop", "x-hop": "dropped" };
      get(`${url}/headers`, { headers }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ colour: res.headers["x-cutover-colour"], body }));
      }).on("error", reject);
    });
    expect(answer.colour).toBe("blue");
    const seen = JSON.parse(answer.body) as Record<string, string>;
    expect(seen[":authority"]).toBe(new URL(url).host);
    expect(seen["x-custom"]).toBe("kept");
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-hop"]).toBeUndefined();
    expect(seen.connection).toBeUndefined();

    const body = "y".repeat(300_000);
    const echo = await fetch(`${url}/echo`, { method: "POST", body });
    expect(echo.headers.get("x-seen-method")).toBe("POST");
    expect((await echo.text()).length).toBe(body.length);
  });

  it("one HTTP/2 connection per replica carries concurrent requests; a new one is opened after it closes", async () => {
    const sessions: ServerHttp2Session[] = [];
    const server = createServer((_req, res) => setTimeout(() => res.end("ok"), 50));
    server.on("session", (session) => sessions.push(session));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const router = await startRouter({ upstreamProtocol: "h2c" });
    routers.push(router);
    router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port }]);
    const url = mainUrl(router);
    const texts = async () => Promise.all(Array.from({ length: 20 }, async () => (await fetch(url)).text()));
    expect(await texts()).toEqual(Array(20).fill("ok"));
    expect(sessions).toHaveLength(1);
    // The replica ends the connection (as a restart would): the next requests open a new one, and none fails.
    const closed = new Promise((resolve) => sessions[0]?.once("close", resolve));
    sessions[0]?.destroy();
    await closed;
    expect(await texts()).toEqual(Array(20).fill("ok"));
    expect(sessions).toHaveLength(2);
  });

  it("a replica killed mid-answer (no Content-Length): the client's answer is aborted, not ended, and counted 502 reset", async () => {
    const app = await startH2cApp("blue");
    apps.push(app);
    const router = await startRouter({ upstreamProtocol: "h2c" });
    routers.push(router);
    router.setEndpoints("blue", [app.endpoint]);

    // The replica sends a head and "partial-", then is killed: Node still ends the replica's stream ('end'),
    // which must not reach the client as the end of a whole answer.
    let received = "";
    const outcome = new Promise<string>((resolve) => {
      get(`${mainUrl(router)}/partial`, (res) => {
        res.on("data", (chunk: Buffer) => {
          received += chunk.toString();
        });
        res.on("end", () => resolve(res.complete ? "complete" : "incomplete end"));
        res.on("error", (error) => resolve(`error: ${error.message}`));
      }).on("error", (error) => resolve(`request error: ${error.message}`));
    });
    await eventually("the client has the first bytes", () => received === "partial-", 10_000);
    await app.stop("SIGKILL");
    expect(await outcome).toBe("error: aborted");
    expect(received).toBe("partial-");

    await eventually("nothing is in flight on blue", () => router.inFlight("blue") === 0, 10_000);
    const metrics = await router.metrics();
    expect(metrics).toMatch(/cutover_requests_total\{colour="blue",status="502"\} 1/);
    expect(metrics).not.toMatch(/cutover_requests_total\{colour="blue",status="200"\}/);
    expect(metrics).toMatch(
      /cutover_upstream_failures_total\{colour="blue",reason="reset",retried="false"\} 1/,
    );
  });

  it("without a replica that answers, the client gets the router's 502 or 503 as over HTTP/1.1", async () => {
    const router = await startRouter({ upstreamProtocol: "h2c", connectTimeoutMs: 1_000 });
    routers.push(router);
    const url = mainUrl(router);
    expect((await fetch(`${url}/`)).status).toBe(503); // no replica in rotation
    // A port nothing listens on: the connection is refused; the retry finds the same single replica refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    router.setEndpoints("blue", [{ id: "blue", host: "127.0.0.1", port }]);
    const refused = await fetch(`${url}/`);
    expect(refused.status).toBe(502);
    expect(await refused.json()).toMatchObject({
      error: "upstream failed",
      colour: "blue",
      detail: "ECONNREFUSED",
    });
  });
});
