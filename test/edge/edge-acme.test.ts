/**
 * `cutover edge` with tls.acme against a real ACME CA (Debian's pebble, which checks the http-01 challenge
 * on the edge's plain listener; its DNS sends every name to 127.0.0.1): the edge orders the certificate for
 * a service's host, serves it to clients that trust only pebble's root, and keeps redirecting or proxying
 * everything else on the plain listener. The router's own ACME is in test/router/acme.test.ts.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../../src/edge/load-edge-config.js";
import { eventually } from "../helpers/eventually.js";
import { PEBBLE_MISSING, type Pebble, pebbleInstalled, startPebble } from "../helpers/pebble.js";
import { freePort } from "../helpers/project.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { send, startTestEdge, type TestEdge } from "./edge-fixtures.js";

const installed = pebbleInstalled();

/** GET / over TLS to `port` as `servername`, trusting only `ca`: the status line and body, and the serial shown. */
function verifiedGet(
  port: number,
  servername: string,
  ca: string,
): Promise<{ head: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca, ALPNProtocols: ["http/1.1"] }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? "";
      socket.write(`GET / HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`);
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.once("end", () => resolve({ head: text, serial }));
    });
    socket.once("error", reject);
  });
}

// An order takes 1 to 5 s here (5 at a load of 18 on 2 cores); the wait allows 90 s.
describe.skipIf(!installed)(
  `cutover edge with tls.acme against pebble${installed ? "" : ` (skipped: ${PEBBLE_MISSING})`}`,
  { timeout: 180_000 },
  () => {
    let pebble: Pebble;
    let alpha: TestUpstream;
    let edge: TestEdge;
    let plainPort = 0;
    let tlsPort = 0;

    beforeAll(async () => {
      plainPort = await freePort();
      tlsPort = await freePort();
      pebble = await startPebble({ httpPort: plainPort });
      alpha = await startUpstream("alpha");
    });
    afterAll(async () => {
      await edge?.close();
      await alpha?.stop();
      await pebble?.stop();
    });

    it("orders a certificate for the service's host through the plain listener, serves it verified, and keeps proxying plain HTTP", async () => {
      const metricsPort = await freePort();
      edge = await startTestEdge(
        `metrics: 127.0.0.1:${metricsPort}
tls:
  listen: 127.0.0.1:${tlsPort}
  acme: { domains: [alpha.test], directory: "${pebble.directory}", directoryCa: pebble-https.pem }
services:
  - { name: alpha, upstream: 127.0.0.1:${alpha.port}, hosts: [alpha.test] }
`,
        { "pebble-https.pem": readFileSync(pebble.httpsCaFile, "utf8") },
        plainPort,
      );
      const root = await pebble.root();
      let answer = { head: "", serial: "" };
      await eventually(
        "the edge serves a certificate for alpha.test that pebble's root verifies",
        async () => {
          answer = await verifiedGet(tlsPort, "alpha.test", root).catch(() => answer);
          return answer.serial !== "";
        },
        90_000,
      );
      expect(answer.head).toMatch(/^HTTP\/1\.1 200/);
      expect(answer.head).toContain("alpha");
      expect(answer.serial).not.toBe("");
      // The plain listener still proxies (no redirectHttp), and a challenge token it does not know is a 404.
      const plain = await send(plainPort, "alpha.test", "/");
      expect(plain.status).toBe(200);
      expect(plain.body).toContain("alpha");
      const unknown = await send(plainPort, "alpha.test", "/.well-known/acme-challenge/no-such-token");
      expect(unknown.status).toBe(404);
      // The certificate's expiry, for an alert on renewals that keep failing.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/cutover_tls_certificate_expiry_seconds\{name="alpha\.test"\} \d+/);
    });
  },
);

describe("tls.acme in cutover-edge.yaml", () => {
  it("needs a plain listen: for the CA's check, and certificates or acme", () => {
    const services = "services:\n  - { name: a, upstream: 127.0.0.1:9, hosts: [a.test] }\n";
    expect(() =>
      parseEdgeConfig(
        `tls:\n  listen: 127.0.0.1:9443\n  acme: { domains: [a.test] }\n${services}`,
        "/tmp/e.yaml",
      ),
    ).toThrow(/tls\.acme: needs a plain listen: beside it/);
    expect(() =>
      parseEdgeConfig(`listen: 127.0.0.1:9080\ntls:\n  listen: 127.0.0.1:9443\n${services}`, "/tmp/e.yaml"),
    ).toThrow(/tls: expected certificates \(files you keep\), acme/);
    expect(() =>
      parseEdgeConfig(
        `listen: 127.0.0.1:9080\ntls:\n  listen: 127.0.0.1:9443\n  acme: { domains: ["*.a.test"] }\n${services}`,
        "/tmp/e.yaml",
      ),
    ).toThrow(/wildcard name needs the dns-01 challenge/);
  });
});
