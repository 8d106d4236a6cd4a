/**
 * router.tls.acme against a real ACME CA: Debian's pebble, which checks each http-01 challenge by fetching it
 * from the router's port-80 listener (its DNS, pebble-challtestsrv, sends every name to 127.0.0.1). The
 * Router runs in this process; test/dataplane/acme-up.test.ts shows the same through `cutover up`.
 * Clients trust only pebble's root, and verify the name: a real client's view.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { AcmeCertificates, type AcmeOptions } from "../../src/router/acme-certificates.js";
import { createDataPlane } from "../../src/router/create-data-plane.js";
import type { Router } from "../../src/router/router.js";
import { TlsCertificates } from "../../src/router/tls-certificates.js";
import { eventually } from "../helpers/eventually.js";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { PEBBLE_MISSING, type Pebble, pebbleInstalled, startPebble } from "../helpers/pebble.js";
import { freePort } from "../helpers/project.js";
import { startRouter } from "../helpers/start-router.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const installed = pebbleInstalled();

/** Temp folders (they hold private keys): removed after the file's tests. */
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("pebble available", () => {
  it.runIf(process.env.CI === "true")("has pebble and pebble-challtestsrv under CI", () => {
    expect(installed, PEBBLE_MISSING).toBe(true);
  });
});

interface LogLine {
  readonly event?: string;
  readonly msg: string;
  readonly serial?: string;
  readonly stage?: string;
  readonly retryInMs?: number;
  readonly level: number;
}

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, events: () => lines.map((l) => l.event).filter(Boolean) };
}

/** The certificate a client that trusts only `ca` is shown for `servername`; rejects when the handshake fails. */
function verifiedHandshake(port: number, servername: string, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca }, () => {
      const certificate = socket.getPeerX509Certificate();
      if (certificate) resolve(certificate);
      else reject(new Error("no certificate shown"));
      socket.end();
    });
    socket.once("error", reject);
  });
}

function get(port: number, servername: string, ca: string, agent: Agent) {
  return new Promise<{ status: number; body: string; socket: TLSSocket }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", servername, ca, agent }, (res) => {
      const socket = res.socket as TLSSocket; // handed back to the agent (and off the response) at the end
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

// An order takes 1 to 2 s here, 5 s at a load of 18 on 2 cores; each wait allows 60 s, each test three times that.
describe.skipIf(!installed)(
  `router.tls.acme against pebble${installed ? "" : ` (skipped: ${PEBBLE_MISSING})`}`,
  { timeout: 180_000 },
  () => {
    let pebble: Pebble;
    let root = "";
    let httpPort = 0;
    let upstream: TestUpstream;
    const stateDir = tempDir("cutover-acme-");
    const running: Router[] = [];

    beforeAll(async () => {
      httpPort = await freePort();
      pebble = await startPebble({ httpPort });
      root = await pebble.root();
      upstream = await startUpstream("blue");
    });
    afterEach(async () => {
      for (const router of running.splice(0)) await router.close();
    });
    afterAll(async () => {
      await upstream?.stop();
      await pebble?.stop();
    });

    /** A router with HTTPS by ACME for app.test (and `files` beside it), its port-80 listener where pebble looks. */
    async function acmeRouter(
      options: Partial<AcmeOptions> = {},
      files: { cert: string; key: string }[] = [],
    ) {
      const log = capturingLogger();
      const tls = new TlsCertificates(files, log.logger);
      const acme = new AcmeCertificates({
        domains: ["app.test"],
        email: "ops@app.test",
        directory: pebble.directory,
        directoryCa: readFileSync(pebble.httpsCaFile, "utf8"),
        renewBeforeMs: 30 * 86_400_000,
        stateDir,
        challengeListener: { host: "127.0.0.1", port: httpPort },
        tls,
        logger: log.logger,
        pollMs: 100,
        ...options,
      });
      const redirectHttp = options.challengeListener ?? { host: "127.0.0.1", port: httpPort };
      const router = await startRouter({ tls, acme, redirectHttp });
      running.push(router);
      router.setEndpoints("blue", [upstream.endpoint]);
      return { router, log, port: router.address().port };
    }

    /** Waits for a verified handshake for app.test (pebble takes a second or two; a busy machine gets 60). */
    async function issued(port: number, log: ReturnType<typeof capturingLogger>): Promise<X509Certificate> {
      let served: X509Certificate | null = null;
      await eventually(
        `a certificate for app.test is issued (log: ${log.lines.map((l) => l.msg).join(" | ")})`,
        async () => {
          served = await verifiedHandshake(port, "app.test", root).catch(() => null);
          return served !== null;
        },
        60_000,
      );
      return served as unknown as X509Certificate;
    }

    it("obtains a certificate through pebble's http-01 check and serves it, verified by pebble's root", async () => {
      const { router, log, port } = await acmeRouter();
      const certificate = await issued(port, log);
      expect(certificate.subjectAltName).toBe("DNS:app.test");
      expect(log.events()).toEqual(expect.arrayContaining(["acme-terms", "acme-order", "acme-issued"]));
      const agent = new Agent({ keepAlive: false });
      const answer = await get(port, "app.test", root, agent);
      agent.destroy();
      expect(answer).toMatchObject({ status: 200, body: "blue" });
      // The account key and the certificate's key are the owner's alone, in a folder only the owner enters.
      const folder = join(stateDir, "acme", `${new URL(pebble.directory).host.replace(":", "_")}_dir`);
      expect(statSync(folder).mode & 0o777).toBe(0o700);
      expect(statSync(join(stateDir, "acme")).mode & 0o777).toBe(0o700);
      for (const key of ["account-key.pem", "key.pem"])
        expect(statSync(join(folder, key)).mode & 0o777).toBe(0o600);
      const kept = new X509Certificate(readFileSync(join(folder, "cert.pem")));
      expect(kept.serialNumber).toBe(certificate.serialNumber);
      // The expiry, for an alert long before it.
      const metrics = await router.metrics();
      const expiry = Number(
        /cutover_tls_certificate_expiry_seconds\{name="app\.test"\} (\S+)/.exec(metrics)?.[1],
      );
      expect(expiry).toBe(Date.parse(certificate.validTo) / 1000);
    });

    it("serves the kept certificate at once after a restart, without a new order", async () => {
      const first = await acmeRouter();
      const before = await issued(first.port, first.log); // from the first test, or ordered now when run alone
      await first.router.close();
      running.splice(0);
      const { log, port } = await acmeRouter();
      // Served before any order could have run: start() put the kept pair in synchronously.
      const after = await verifiedHandshake(port, "app.test", root);
      expect(after.serialNumber).toBe(before.serialNumber);
      expect(log.events()).toContain("acme-kept");
      expect(log.events()).not.toContain("acme-order");
    });

    it("renews when less than renewBefore is left: new connections get the new certificate, an open one goes on", async () => {
      // Pebble's certificates live 90 days; asked to renew 100 days before the end, the router renews at every check.
      const { log, port } = await acmeRouter({ renewBeforeMs: 100 * 86_400_000, checkIntervalMs: 300 });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const before = await get(port, "app.test", root, agent);
      const oldFingerprint = before.socket.getPeerCertificate().fingerprint256;
      let renewed: X509Certificate | null = null;
      await eventually(
        "a new connection is shown a renewed certificate",
        async () => {
          const served = await verifiedHandshake(port, "app.test", root).catch(() => null);
          if (served && served.fingerprint256 !== oldFingerprint) renewed = served;
          return renewed !== null;
        },
        60_000,
      );
      expect(log.events()).toContain("acme-renewed");
      expect(log.events()).toContain("acme-renew-before-too-long");
      // The kept-alive connection made before the renewal goes on, with the certificate it was made with.
      const after = await get(port, "app.test", root, agent);
      expect(after).toMatchObject({ status: 200, body: "blue" });
      expect(after.socket).toBe(before.socket);
      expect(after.socket.getPeerCertificate().fingerprint256).toBe(oldFingerprint);
      agent.destroy();
    });

    // Two orders and four failed ones: 5 s on a quiet machine, 13 s at a load of 18 on 2 cores.
    it("retries a failed renewal with a growing wait while the current certificate keeps serving", async () => {
      // The directory is read through a relay the test cuts (the rest of an order goes to pebble directly).
      const relay = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(pebble.directory).port) });
      const through = {
        directory: `https://127.0.0.1:${relay.port}/dir`,
        stateDir: tempDir("cutover-acme-retry-"),
      };
      try {
        // A first certificate, kept; then the relay is cut before a second router, which must renew it, starts.
        const first = await acmeRouter(through);
        const kept = await issued(first.port, first.log);
        await first.router.close();
        running.splice(0);
        await relay.cut();
        const { log, port } = await acmeRouter({
          ...through,
          renewBeforeMs: 100 * 86_400_000, // always due: a renewal at every check
          retryMinMs: 200,
          retryMaxMs: 800,
        });
        const failures = () => log.lines.filter((l) => l.event === "acme-failed");
        await eventually("four renewals in a row failed", () => failures().length >= 4, 60_000);
        expect((await verifiedHandshake(port, "app.test", root)).serialNumber).toBe(kept.serialNumber);
        expect(
          failures()
            .map((l) => l.retryInMs)
            .slice(0, 4),
        ).toEqual([200, 400, 800, 800]);
        expect(failures()[0]?.msg).toMatch(
          /could not be read \(connect ECONNREFUSED .*the current certificate \(expires \S+\) keeps serving$/,
        );
        const restoredAt = log.lines.length;
        await relay.restore();
        await eventually(
          "a renewal succeeds once the directory answers again",
          () => log.lines.slice(restoredAt).some((l) => l.event === "acme-renewed"),
          60_000,
        );
        const renewed = await verifiedHandshake(port, "app.test", root);
        expect(renewed.serialNumber).not.toBe(kept.serialNumber);
      } finally {
        await relay.close();
      }
    });

    it("when the CA cannot reach the port-80 listener: names the check that failed and what to look at", async () => {
      // The router listens elsewhere than where pebble looks, as when port 80 is not forwarded to it.
      const elsewhere = { host: "127.0.0.1", port: await freePort() };
      const { log, port } = await acmeRouter({
        challengeListener: elsewhere,
        stateDir: tempDir("cutover-acme-unreachable-"),
        retryMinMs: 600_000,
      });
      await eventually("the failed order is logged", () => log.events().includes("acme-failed"), 60_000);
      const failed = log.lines.find((l) => l.event === "acme-failed") as LogLine;
      expect(failed.stage).toBe("validation");
      expect(failed.msg).toMatch(
        /^certificate order failed: the CA could not check app\.test over http-01 \(app\.test: /,
      );
      expect(failed.msg).toContain(
        `each name's DNS must point at this machine, and port 80 there must reach router.tls.redirectHttp (127.0.0.1:${elsewhere.port})`,
      );
      await expect(verifiedHandshake(port, "app.test", root)).rejects.toThrow();
    });

    it("with a directory that does not answer: says so in the log, and serves its other certificates and listeners", async () => {
      // Accepts connections and never says a word: the worst case (a refused port fails faster).
      const silent: Server = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const silentPort = (silent.address() as { port: number }).port;
      const files = await loopbackCertificate();
      const dir = tempDir("cutover-acme-files-");
      const pair = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
      writeFileSync(pair.cert, files.cert);
      writeFileSync(pair.key, files.key);
      try {
        const { router, log, port } = await acmeRouter(
          {
            directory: `https://127.0.0.1:${silentPort}/directory`,
            stateDir: tempDir("cutover-acme-silent-"),
            requestTimeoutMs: 1_000,
            retryMinMs: 600_000,
          },
          [pair],
        );
        await eventually("the failed order is logged", () => log.events().includes("acme-failed"), 30_000);
        const failed = log.lines.find((l) => l.event === "acme-failed") as LogLine;
        expect(failed.stage).toBe("directory");
        expect(failed.level).toBe(50);
        expect(failed.msg).toMatch(
          new RegExp(
            `the ACME directory https://127\\.0\\.0\\.1:${silentPort}/directory could not be read \\(no answer within 1 s\\)`,
          ),
        );
        expect(failed.msg).toMatch(
          /check router\.tls\.acme\.directory.*trying again in 10m0s; until then, HTTPS handshakes for app\.test are refused/,
        );
        // app.test has no certificate yet: its handshake is refused, and logged.
        await expect(verifiedHandshake(port, "app.test", root)).rejects.toThrow();
        expect(log.events()).toContain("tls-refused");
        // The file certificate serves its own name (and clients that name none), verified by its own root.
        const served = await verifiedHandshake(port, "127.0.0.1", files.cert);
        expect(served.subject).toMatch(/CN=127\.0\.0\.1/);
        // The port-80 listener still redirects, and answers no unknown challenge.
        const redirect = await fetch(`http://127.0.0.1:${httpPort}/shop`, { redirect: "manual" });
        expect(redirect.status).toBe(308);
        const challenge = await fetch(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/nope`);
        expect(challenge.status).toBe(404);
        // The preview listener, plain HTTP, is untouched.
        router.setEndpoints("green", [upstream.endpoint]);
        const previewAnswer = await fetch(`http://127.0.0.1:${router.previewAddress()?.port}/`);
        expect([previewAnswer.status, await previewAnswer.text()]).toEqual([200, "blue"]);
      } finally {
        silent.close();
      }
    });
  },
);

describe("router.tls.acme in cutover.yaml", () => {
  const parse = (tls: string) =>
    parseConfig(
      `service: shop\nversion: 1.0.0\nstart:\n  command: node server.js\nrouter:\n  tls:\n${tls}`,
      "/tmp/cutover.yaml",
    );
  const problems = (tls: string) => {
    try {
      parse(tls);
      return "";
    } catch (error) {
      return (error as Error).message;
    }
  };

  it("takes acme alone, with Let's Encrypt production and 30 days by default", () => {
    const { config } = parse("    redirectHttp: 0.0.0.0:80\n    acme:\n      domains: [App.Example.com]\n");
    expect(config.router.tls?.acme).toEqual({
      domains: ["app.example.com"],
      directory: "https://acme-v02.api.letsencrypt.org/directory",
      renewBefore: 30 * 86_400_000,
    });
    expect(config.router.tls?.certificates).toBeUndefined();
    // Files for some names, ACME for others.
    const both = parse(
      "    redirectHttp: 80\n    certificates: [{ cert: a.pem, key: a-key.pem }]\n    acme: { domains: [b.example] }\n",
    );
    expect(both.config.router.tls?.certificates).toHaveLength(1);
    expect(both.config.router.tls?.acme?.domains).toEqual(["b.example"]);
  });

  it("refuses a directoryCa file that cannot be read, naming it", () => {
    const loaded = parse(
      "    redirectHttp: 80\n    acme: { domains: [b.example], directoryCa: certs/missing-root.pem }\n",
    );
    expect(() => createDataPlane(loaded, pino({ enabled: false }))).toThrow(
      /router\.tls\.acme\.directoryCa: cannot read \/tmp\/certs\/missing-root\.pem/,
    );
  });

  it("refuses acme without redirectHttp, saying to add it and why", () => {
    expect(problems("    acme:\n      domains: [app.example.com]\n")).toMatch(
      /router\.tls\.acme: needs redirectHttp: 0\.0\.0\.0:80 beside it: the CA checks each name over plain HTTP on port 80/,
    );
  });

  it("refuses tls with neither certificates nor acme, a wildcard name and no names", () => {
    expect(problems("    redirectHttp: 0.0.0.0:80\n")).toMatch(
      /router\.tls: expected certificates .*, acme .*, or both/,
    );
    expect(problems("    redirectHttp: 80\n    acme:\n      domains: ['*.example.com']\n")).toMatch(
      /router\.tls\.acme\.domains\.0: a wildcard name needs the dns-01 challenge/,
    );
    expect(problems("    redirectHttp: 80\n    acme:\n      domains: []\n")).toMatch(
      /router\.tls\.acme\.domains: expected at least one name/,
    );
    expect(
      problems(
        "    redirectHttp: 80\n    acme:\n      domains: [a.example]\n      directory: http://ca/dir\n",
      ),
    ).toMatch(/router\.tls\.acme\.directory: expected an https:\/\/ URL/);
  });
});
