/**
 * router.tls: HTTPS on the main listener with real certificates (self-signed here), chosen by SNI; TLS 1.2+
 * with strong suites only (Debian's testssl says which it offers); certificates reloaded from disk without
 * dropping an open connection; plain HTTP redirected. Real sockets on loopback.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type PeerCertificate, type TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { pino } from "pino";
import { generate } from "selfsigned";
import { afterEach, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/router.js";
import { TlsCertificates } from "../../src/router/tls-certificates.js";
import { startRouter } from "../helpers/start-router.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const dir = mkdtempSync(join(tmpdir(), "cutover-tls-"));
const running: Array<Router | TestUpstream> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await ("stop" in r ? r.stop() : r.close());
});

/** A self-signed certificate (its own CA) for `name` and 127.0.0.1, written to <dir>/<file>.pem and -key.pem. */
async function certificate(name: string, file = name): Promise<{ cert: string; key: string; pem: string }> {
  const pems = await generate([{ name: "commonName", value: name }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: name },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  const cert = join(dir, `${file}.pem`);
  const key = join(dir, `${file}-key.pem`);
  writeFileSync(cert, pems.cert);
  writeFileSync(key, pems.private);
  return { cert, key, pem: pems.cert };
}

async function tlsRouter(files: { cert: string; key: string }[], redirect = false, tls?: TlsCertificates) {
  const upstream = await startUpstream("blue");
  running.push(upstream);
  const router = await startRouter({
    tls: tls ?? new TlsCertificates(files, pino({ enabled: false })),
    redirectHttp: redirect ? { host: "127.0.0.1", port: 0 } : null,
  });
  running.push(router);
  router.setEndpoints("blue", [upstream.endpoint]);
  return router;
}

/** The certificate the router presents to a client that names `servername` (none: no SNI). */
function servedCertificate(port: number, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: "127.0.0.1", port, rejectUnauthorized: false, ...(servername ? { servername } : {}) },
      () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      },
    );
    socket.once("error", reject);
  });
}

/** Whether a handshake with these client settings succeeds. */
function handshake(port: number, options: Record<string, unknown>): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options }, () => {
      resolve(`ok ${socket.getProtocol()}`);
      socket.end();
    });
    socket.once("error", (error) => resolve(`refused: ${error.message}`));
  });
}

function get(port: number, path: string, agent: Agent, ca: string, servername: string) {
  return new Promise<{ status: number; body: string; socket: TLSSocket }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent, ca, servername }, (res) => {
      const socket = res.socket as TLSSocket;
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, socket }));
    });
    req.once("error", reject);
    req.end();
  });
}

describe("router.tls", () => {
  it("serves HTTPS with the certificate the client names (SNI), the first to a client that names none", async () => {
    const a = await certificate("a.test");
    const b = await certificate("b.test");
    const router = await tlsRouter([a, b]);
    const { port } = router.address();
    expect((await servedCertificate(port, "a.test")).subject.CN).toBe("a.test");
    expect((await servedCertificate(port, "b.test")).subject.CN).toBe("b.test");
    expect((await servedCertificate(port, "other.test")).subject.CN).toBe("a.test");
    expect((await servedCertificate(port)).subject.CN).toBe("a.test");
    // Verified against b's own CA, by name: a real client's view. The replica hears it came over HTTPS.
    const agent = new Agent({ keepAlive: true });
    const answer = await get(port, "/headers", agent, b.pem, "b.test");
    agent.destroy();
    expect(answer.status).toBe(200);
    const headers = JSON.parse(answer.body) as Record<string, string>;
    expect(headers["x-forwarded-proto"]).toBe("https");
  });

  it("offers TLS 1.2 and 1.3 only, with forward-secret AEAD suites only", async () => {
    const router = await tlsRouter([await certificate("a.test", "only")]);
    const { port } = router.address();
    expect(await handshake(port, { maxVersion: "TLSv1.1", minVersion: "TLSv1" })).toMatch(/^refused/);
    expect(await handshake(port, { maxVersion: "TLSv1.2", ciphers: "AES128-SHA:DES-CBC3-SHA" })).toMatch(
      /^refused/,
    );
    expect(await handshake(port, { maxVersion: "TLSv1.2" })).toBe("ok TLSv1.2");
    expect(await handshake(port, {})).toBe("ok TLSv1.3");
  });

  // testssl forks openssl a few hundred times: 19 s alone for protocols (-p) and cipher categories (-s), what
  // this test reads (its forward-secrecy scan, -f, took another 7 s and nothing here read it).
  it("testssl finds no weak protocol or cipher category offered", { timeout: 330_000 }, async () => {
    const router = await tlsRouter([await certificate("a.test", "scan")]);
    const out = join(dir, "testssl.json");
    // Not execFileSync: the router answers testssl on this process's event loop.
    await promisify(execFile)(
      "testssl",
      [
        "--quiet",
        "--fast",
        "-p",
        "-s",
        "--warnings",
        "off",
        "--jsonfile-pretty",
        out,
        `127.0.0.1:${router.address().port}`,
      ],
      { timeout: 320_000 },
    );
    const scan = (JSON.parse(readFileSync(out, "utf8")) as { scanResult: Record<string, unknown>[] })
      .scanResult[0] as Record<string, { id: string; finding: string }[]>;
    const finding = (id: string) =>
      [...(scan.protocols ?? []), ...(scan.ciphers ?? [])].find((entry) => entry.id === id)?.finding;
    for (const id of ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]) expect(finding(id), id).toBe("not offered");
    for (const id of ["NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"])
      expect(finding(`cipherlist_${id}`), id).toBe("not offered");
    expect(finding("TLS1_2")).toBe("offered");
    expect(finding("TLS1_3")).toMatch(/^offered/);
    expect(finding("cipherlist_STRONG")).toBe("offered");
  });

  it("serves a certificate replaced on disk to new connections within 2 s; an open connection keeps going", async () => {
    const first = await certificate("a.test", "renewed");
    const router = await tlsRouter([first]);
    const { port } = router.address();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(port, "/", agent, first.pem, "a.test");
    const oldFingerprint = new X509Certificate(first.pem).fingerprint256;
    // A renewal as certbot or an operator does it: new files written beside, then moved into place.
    const next = await certificate("a.test", "renewed-next");
    renameSync(next.key, first.key);
    renameSync(next.cert, first.cert);
    const replacedAt = Date.now();
    const newFingerprint = new X509Certificate(next.pem).fingerprint256;
    let servedNewAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - replacedAt < 5_000) {
      const served = await servedCertificate(port, "a.test");
      if (served.fingerprint256 === newFingerprint) {
        servedNewAfter = Date.now() - replacedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(servedNewAfter).toBeLessThan(2_000);
    // The kept-alive connection made before the renewal goes on, with the certificate it was made with.
    const after = await get(port, "/", agent, first.pem, "a.test");
    expect(after.status).toBe(200);
    expect(after.socket).toBe(before.socket);
    expect(after.socket.getPeerCertificate().fingerprint256).toBe(oldFingerprint);
    agent.destroy();
  });

  it("keeps serving the previous certificate when a replaced one does not load", async () => {
    const cert = await certificate("a.test", "broken");
    const tls = new TlsCertificates([cert], pino({ enabled: false }));
    const reloaded = new Promise<void>((resolve) => tls.onReload(() => resolve()));
    const router = await tlsRouter([cert], false, tls);
    const { port } = router.address();
    const fingerprint = new X509Certificate(cert.pem).fingerprint256;
    writeFileSync(cert.cert, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
    await reloaded; // the watcher saw the change and tried
    expect((await servedCertificate(port, "a.test")).fingerprint256).toBe(fingerprint);
  });

  it("redirects plain HTTP on tls.redirectHttp to https:// on the main listener, path kept", async () => {
    const a = await certificate("a.test", "redirect");
    const router = await tlsRouter([a], true);
    const { port } = router.address();
    const redirectPort = router.redirectAddress()?.port;
    const answer = await new Promise<{ status: number; location: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port: redirectPort, path: "/shop?q=1", headers: { host: "a.test" } },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, location: String(res.headers.location) });
        },
      );
      req.once("error", reject);
      req.end();
    });
    expect(answer).toEqual({ status: 308, location: `https://a.test:${port}/shop?q=1` });
  });
});
