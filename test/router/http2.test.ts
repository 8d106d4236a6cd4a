/**
 * HTTP/2 to clients over TLS (ALPN h2, HTTP/1.1 for clients that do not offer it), with the router's
 * guarantees: the atomic switch, drain of what is in flight on the old colour, streamed bodies, per-colour
 * metrics. Real clients: Node's http2 client, curl --http2 and h2load (Debian's nghttp2-client).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { type ClientHttp2Session, connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Router } from "../../src/router/router.js";
import { TlsCertificates } from "../../src/router/tls-certificates.js";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { startRouter } from "../helpers/start-router.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "cutover-h2-"));
const running: Array<Router | TestUpstream> = [];
const sessions: ClientHttp2Session[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  for (const r of running.splice(0)) await ("stop" in r ? r.stop() : r.close());
});

async function h2Router(): Promise<{ router: Router; url: string; ca: string }> {
  const { cert, key } = await loopbackCertificate();
  writeFileSync(join(dir, "cert.pem"), cert);
  writeFileSync(join(dir, "key.pem"), key);
  const [blue, green] = [await startUpstream("blue"), await startUpstream("green")];
  const router = await startRouter({
    tls: new TlsCertificates(
      [{ cert: join(dir, "cert.pem"), key: join(dir, "key.pem") }],
      pino({ enabled: false }),
    ),
  });
  running.push(blue, green, router);
  router.setEndpoints("blue", [blue.endpoint]);
  router.setEndpoints("green", [green.endpoint]);
  return { router, url: `https://127.0.0.1:${router.address().port}`, ca: cert };
}

/** One HTTP/2 request on `session`: status, body, and the colour that answered. */
function h2get(session: ClientHttp2Session, path: string, body?: string) {
  return new Promise<{ status: number; body: string; colour: string }>((resolve, reject) => {
    const stream = session.request({ ":path": path, ":method": body === undefined ? "GET" : "POST" });
    let status = 0;
    let colour = "";
    let text = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      colour = String(headers["x-cutover-colour"]);
    });
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    stream.on("end", () => resolve({ status, body: text, colour }));
    stream.on("error", reject);
    if (body === undefined) stream.end();
    else {
      // Streamed in two pieces, without a Content-Length: HTTP/2 has no chunked encoding.
      stream.write(body.slice(0, 3));
      setImmediate(() => stream.end(body.slice(3)));
    }
  });
}

function session(url: string, ca: string): ClientHttp2Session {
  const s = connect(url, { ca });
  sessions.push(s);
  return s;
}

describe("HTTP/2 to clients", () => {
  it("answers over h2 (curl --http2), over HTTP/1.1 to a client without ALPN h2, and streams a body without Content-Length", async () => {
    const { url, ca } = await h2Router();
    writeFileSync(join(dir, "ca.pem"), ca);
    const curl = await run("curl", [
      "-s",
      "--http2",
      "--cacert",
      join(dir, "ca.pem"),
      "-D",
      "-",
      "-o",
      "/dev/null",
      `${url}/`,
    ]);
    expect(curl.stdout).toMatch(/^HTTP\/2 200/);
    expect(curl.stdout).toMatch(/x-cutover-colour: blue/);
    const http1 = await run("curl", [
      "-s",
      "--http1.1",
      "--cacert",
      join(dir, "ca.pem"),
      "-D",
      "-",
      "-o",
      "/dev/null",
      `${url}/`,
    ]);
    expect(http1.stdout).toMatch(/^HTTP\/1\.1 200/);
    const echo = await h2get(session(url, ca), "/echo", "hello over h2");
    expect(echo).toEqual({ status: 200, body: "hello over h2", colour: "blue" });
  });

  it("a switch under h2 load: 0 failed, and every request sent after the switch returned is answered by green", async () => {
    const { router, url, ca } = await h2Router();
    const s = session(url, ca);
    let switchedAt = Number.POSITIVE_INFINITY;
    const answers: { sentAt: number; colour: string; status: number }[] = [];
    const failures: string[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        const sentAt = performance.now();
        try {
          const answer = await h2get(s, "/");
          answers.push({ sentAt, colour: answer.colour, status: answer.status });
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 20 }, worker);
    while (answers.length < 300) await new Promise((r) => setTimeout(r, 10));
    router.switchTo("green");
    switchedAt = performance.now();
    const after = answers.length;
    while (answers.length < after + 300) await new Promise((r) => setTimeout(r, 10));
    running = false;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const late = answers.filter((a) => a.sentAt > switchedAt);
    expect(late.length).toBeGreaterThan(250);
    expect(late.every((a) => a.colour === "green")).toBe(true);
    const metrics = await router.metrics();
    expect(metrics).toMatch(/cutover_requests_total\{colour="green",status="200"\} [1-9]/);
  });

  it("h2load through a switch: every request succeeds", async () => {
    const { router, url } = await h2Router();
    const load = run("h2load", ["-n", "6000", "-c", "10", "-m", "10", `${url}/`], { timeout: 120_000 });
    // The switch lands in the middle of the run: once blue has answered 1,000 of the 6,000.
    const blueAnswered = async () =>
      Number(
        /cutover_requests_total\{colour="blue",status="200"\} (\d+)/.exec(await router.metrics())?.[1] ?? 0,
      );
    while ((await blueAnswered()) < 1_000) await new Promise((r) => setTimeout(r, 5));
    router.switchTo("green");
    const { stdout } = await load;
    expect(stdout).toMatch(/Application protocol: h2/);
    expect(stdout).toMatch(
      /requests: 6000 total, 6000 started, 6000 done, 6000 succeeded, 0 failed, 0 errored, 0 timeout/,
    );
    expect(stdout).toMatch(/status codes: 6000 2xx, 0 3xx, 0 4xx, 0 5xx/);
    const metrics = await router.metrics();
    expect(metrics).toMatch(/cutover_requests_total\{colour="green",status="200"\} [1-9]/);
    expect(metrics).toMatch(/cutover_requests_total\{colour="blue",status="200"\} [1-9]/);
  });

  it("a long h2 request in flight on blue finishes there across a switch (drain); a WebSocket over TLS still works", async () => {
    const { router, url, ca } = await h2Router();
    const s = session(url, ca);
    const slow = h2get(s, "/slow?ms=700");
    while (router.inFlight("blue") === 0) await new Promise((r) => setTimeout(r, 5));
    router.switchTo("green");
    expect((await h2get(s, "/")).colour).toBe("green");
    const drained = router.drain("blue", 5_000);
    expect(await slow).toEqual({ status: 200, body: "blue", colour: "blue" });
    expect(await drained).toEqual({ completed: 1, cancelled: 0 });
    const socket = new WebSocket(`${url.replace("https", "wss")}/ws`, { ca });
    const hello = await new Promise<string>((resolve, reject) => {
      socket.once("message", (data) => resolve(String(data)));
      socket.once("error", reject);
    });
    socket.close();
    expect(hello).toBe("hello from green");
  });
});
