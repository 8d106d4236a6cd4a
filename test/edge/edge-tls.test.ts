/**
 * The edge over HTTPS: one certificate per host chosen by SNI, HTTP/2 for clients that offer it (curl
 * --http2), HTTP/1.1 and WebSocket upgrades for the others, a plain listener that redirects to HTTPS, and
 * a graceful stop of HTTP/2 connections.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { generate } from "selfsigned";
import { afterEach, describe, expect, it } from "vitest";
import { type ClientOptions, WebSocket } from "ws";
import { freePort } from "../helpers/project.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { send, startTestEdge, type TestEdge } from "./edge-fixtures.js";

const run = promisify(execFile);

const edges: TestEdge[] = [];
const upstreams: TestUpstream[] = [];
afterEach(async () => {
  await Promise.all(edges.splice(0).map((edge) => edge.close()));
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.stop()));
});

/** A self-signed certificate (its own CA) for `host` alone, and its key. */
async function certificateFor(host: string): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: "commonName", value: host }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: host }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** An edge with HTTPS for alpha.test and beta.test (a certificate each) and a plain listener redirecting to it. */
async function httpsEdge(): Promise<{ edge: TestEdge; tlsPort: number; cas: Record<string, string> }> {
  const [alpha, beta] = [await startUpstream("alpha"), await startUpstream("beta")];
  upstreams.push(alpha, beta);
  const [alphaPem, betaPem] = [await certificateFor("alpha.test"), await certificateFor("beta.test")];
  const tlsPort = await freePort();
  const edge = await startTestEdge(
    `tls:
  listen: 127.0.0.1:${tlsPort}
  redirectHttp: true
  certificates:
    - { cert: alpha.pem, key: alpha-key.pem }
    - { cert: beta.pem, key: beta-key.pem }
services:
  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test] }
  - { name: beta, upstream: 127.0.0.1:${beta.port}, hosts: [beta.test] }
`,
    {
      "alpha.pem": alphaPem.cert,
      "alpha-key.pem": alphaPem.key,
      "beta.pem": betaPem.cert,
      "beta-key.pem": betaPem.key,
    },
  );
  edges.push(edge);
  return { edge, tlsPort, cas: { "alpha.test": alphaPem.cert, "beta.test": betaPem.cert } };
}

/**
 * curl to https://<host>:<port><path> resolved to loopback, trusting only `ca`: the body, status, HTTP
 * version and the service the edge says answered.
 */
async function curl(host: string, port: number, path: string, ca: string, dir: string, flag: string) {
  const caFile = join(dir, `${host}-ca.pem`);
  writeFileSync(caFile, ca);
  const { stdout } = await run("curl", [
    "-sS",
    flag,
    "--cacert",
    caFile,
    "--resolve",
    `${host}:${port}:127.0.0.1`,
    "-w",
    "\n%{http_code} %{http_version} %header{x-cutover-service}",
    `https://${host}:${port}${path}`,
  ]);
  const lines = stdout.split("\n");
  const [status, version, service] = (lines.pop() as string).split(" ");
  return { body: lines.join("\n"), status: Number(status), httpVersion: version, service };
}

describe("the edge over HTTPS", () => {
  it("serves each host with its own certificate (SNI), over HTTP/2 and HTTP/1.1, to its own service", async () => {
    const { edge, tlsPort, cas } = await httpsEdge();
    const alpha = await curl(
      "alpha.test",
      tlsPort,
      "/headers",
      cas["alpha.test"] as string,
      edge.dir,
      "--http2",
    );
    expect([alpha.status, alpha.httpVersion, alpha.service]).toEqual([200, "2", "alpha"]);
    const seen = JSON.parse(alpha.body) as Record<string, string>;
    expect(seen["x-forwarded-proto"]).toBe("https");
    expect(seen["x-forwarded-host"]).toBe(`alpha.test:${tlsPort}`);
    const beta = await curl("beta.test", tlsPort, "/", cas["beta.test"] as string, edge.dir, "--http1.1");
    expect([beta.status, beta.httpVersion, beta.service, beta.body]).toEqual([200, "1.1", "beta", "beta"]);
    // Each certificate is for its own host only: alpha's CA does not vouch for what beta.test is served.
    await expect(
      curl("beta.test", tlsPort, "/", cas["alpha.test"] as string, edge.dir, "--http2"),
    ).rejects.toThrow(/certificate/i);
  });

  it("tunnels a WebSocket over TLS, and redirects plain HTTP to HTTPS", async () => {
    const { edge, tlsPort, cas } = await httpsEdge();
    // servername (SNI) goes on to tls.connect, which ws's option type does not list.
    const options = { headers: { host: "beta.test" }, servername: "beta.test", ca: cas["beta.test"] };
    const socket = new WebSocket(`wss://127.0.0.1:${tlsPort}/ws`, options as ClientOptions);
    const hello = await new Promise<string>((resolve, reject) => {
      socket.once("message", (data) => resolve(String(data)));
      socket.once("error", reject);
    });
    expect(hello).toBe("hello from beta");
    socket.close();
    const redirect = await send(edge.port, "Alpha.test:8080", "/a/b?c=1");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://alpha.test:${tlsPort}/a/b?c=1`);
  });

  it("lets an HTTP/2 stream in flight finish when it stops, and then takes no new connection", async () => {
    const { edge, tlsPort, cas } = await httpsEdge();
    edges.splice(0);
    const alpha = upstreams.find(({ name }) => name === "alpha") as TestUpstream;
    const session = connect(`https://127.0.0.1:${tlsPort}`, {
      ca: cas["alpha.test"],
      servername: "alpha.test",
    });
    session.on("error", () => undefined);
    // /hold sends its first line at once and the rest only once released: while the client has the first
    // line and not the rest, the stream is in flight, however slow the machine.
    const stream = session.request({ ":path": "/hold", ":authority": "alpha.test" });
    stream.on("error", () => undefined);
    stream.setEncoding("utf8");
    const status = new Promise<number>((resolve) =>
      stream.once("response", (headers) => resolve(Number(headers[":status"]))),
    );
    const first = new Promise<string>((resolve) => stream.once("data", resolve));
    expect(await first).toBe("first\n");
    const closing = edge.close();
    let rest = "";
    stream.on("data", (chunk: string) => {
      rest += chunk;
    });
    // Ended with all of it (a cancelled stream is reset, and gets no end).
    const ended = new Promise<void>((resolve, reject) => {
      stream.once("end", resolve);
      stream.once("aborted", () => reject(new Error("the stream was reset")));
    });
    alpha.release();
    await ended;
    expect([await status, rest]).toEqual([200, "rest\n"]);
    await closing;
    session.destroy();
    await expect(
      curl("alpha.test", tlsPort, "/", cas["alpha.test"] as string, edge.dir, "--http2"),
    ).rejects.toThrow();
  });

  it("says which field of its file to change when a port is taken, and frees the port it had bound", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = (taken.address() as AddressInfo).port;
    try {
      const pem = await certificateFor("alpha.test");
      const tlsPort = await freePort();
      // The HTTPS port is bound first, then the plain one fails.
      const started = startTestEdge(
        `tls:
  listen: 127.0.0.1:${tlsPort}
  certificates: [{ cert: alpha.pem, key: alpha-key.pem }]
services:
  - { name: alpha, upstream: 127.0.0.1:1, hosts: [alpha.test] }
`,
        { "alpha.pem": pem.cert, "alpha-key.pem": pem.key },
        takenPort,
      );
      await expect(started).rejects.toThrow(
        new RegExp(
          `^the edge cannot listen: 127\\.0\\.0\\.1:${takenPort} is already in use \\(a router of a service, another edge\\?\\); stop what listens there or change listen in .*cutover-edge\\.yaml$`,
        ),
      );
      const again = createServer();
      await new Promise<void>((resolve, reject) =>
        again.once("error", reject).listen(tlsPort, "127.0.0.1", resolve),
      );
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it("passes a service's trailers on to an HTTP/2 client", async () => {
    const service = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum" });
      res.write("body");
      res.addTrailers({ "x-checksum": "c0ffee", connection: "close" });
      res.end();
    });
    await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
    const pem = await certificateFor("alpha.test");
    const tlsPort = await freePort();
    const edge = await startTestEdge(
      `tls:
  listen: 127.0.0.1:${tlsPort}
  certificates: [{ cert: alpha.pem, key: alpha-key.pem }]
services:
  - { name: alpha, upstream: 127.0.0.1:${(service.address() as AddressInfo).port}, hosts: [alpha.test] }
`,
      { "alpha.pem": pem.cert, "alpha-key.pem": pem.key },
    );
    edges.push(edge);
    const session = connect(`https://127.0.0.1:${tlsPort}`, { ca: pem.cert, servername: "alpha.test" });
    session.on("error", () => undefined);
    try {
      const stream = session.request({ ":path": "/", ":authority": "alpha.test" });
      const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once("trailers", resolve));
      stream.resume();
      // The connection-specific field HTTP/2 forbids is dropped; the rest arrive.
      const received = await trailers;
      expect(Object.keys(received)).toEqual(["x-checksum"]);
      expect(received["x-checksum"]).toBe("c0ffee");
    } finally {
      session.destroy();
      service.closeAllConnections();
      await new Promise<void>((resolve) => service.close(() => resolve()));
    }
  });
});
