/**
 * Health checks of h2c replicas on the local platform. health.grpc: the standard gRPC health check
 * (grpc.health.v1.Health/Check) against a real gRPC server (grpc-app.mjs: @grpc/grpc-js with
 * grpc-health-check's HealthImplementation). SERVING puts a replica in rotation; NOT_SERVING never does, and a
 * replica that never serves is restarted after its startup grace. Without health.grpc, GET health.path goes
 * over h2c to a replica that speaks only HTTP/2 cleartext (a plain node:http2 server, h2c-app.mjs). Each
 * failure says what went wrong; no check throws or hangs.
 */
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createH2cServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { localParts } from "../../src/compose/local-parts.js";
import { configSchema, type HealthConfig } from "../../src/config/schema.js";
import { probeGrpcHealth } from "../../src/platforms/local/grpc-health-probe.js";
import { HealthChecker, type HealthListener } from "../../src/platforms/local/health-checker.js";
import { probeHealth } from "../../src/platforms/local/health-probe.js";
import type { LocalPlatform } from "../../src/platforms/local/local-platform.js";
import { createDataPlane } from "../../src/router/create-data-plane.js";
import { eventually } from "../helpers/eventually.js";
import { type GrpcApp, H2C_APP, startGrpcApp } from "../helpers/grpc-app.js";

const apps: GrpcApp[] = [];
const servers: Server[] = [];
const checkers: HealthChecker[] = [];
const platforms: LocalPlatform[] = [];
afterEach(async () => {
  for (const checker of checkers.splice(0)) checker.stop();
  for (const platform of platforms.splice(0)) await platform.close();
  await Promise.all(apps.splice(0).map((app) => app.stop("SIGKILL")));
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** health: as cutover.yaml gives it, with health.grpc set and these fields. */
function health(fields: Record<string, unknown>): HealthConfig {
  return configSchema.parse({
    service: "shop",
    version: "1",
    start: { command: "true" },
    health: { grpc: {}, ...fields },
  }).health;
}

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const target = (port: number, service = "") => ({ host: "127.0.0.1", port, service, timeoutMs: 500 });

describe("the gRPC health probe", () => {
  it("passes SERVING, fails NOT_SERVING and an unknown service, each with what was answered", async () => {
    const serving = await startGrpcApp("serving");
    const notServing = await startGrpcApp("not-serving", { HEALTH_STATUS: "NOT_SERVING" });
    apps.push(serving, notServing);
    expect(await probeGrpcHealth(target(serving.endpoint.port))).toEqual({ ok: true });
    expect(await probeGrpcHealth(target(serving.endpoint.port, "cutover.test.Colours"))).toEqual({
      ok: true,
    });
    expect(await probeGrpcHealth(target(notServing.endpoint.port))).toEqual({
      ok: false,
      problem: 'grpc.health.v1.Health/Check("") answered NOT_SERVING',
    });
    const unknown = await probeGrpcHealth(target(serving.endpoint.port, "no.such.Service"));
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.problem).toMatch(
      /^grpc\.health\.v1\.Health\/Check\("no\.such\.Service"\) failed: NOT_FOUND: .*set health\.grpc\.service/,
    );
  });

  it("fails without throwing or hanging: nothing listening, a server that never answers, an HTTP/1.1 server", async () => {
    const refusedPort = await listening(createServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const refused = await probeGrpcHealth(target(refusedPort));
    expect(!refused.ok && refused.problem).toMatch(/failed: UNAVAILABLE: .*ECONNREFUSED/);

    // Accepts the connection and never says a word: the deadline ends the check.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const silentPort = await listening(silent);
    const began = performance.now();
    const silence = await probeGrpcHealth(target(silentPort));
    // 500 ms timeout; the margin is for a busy machine, far below a hang.
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(silence).toEqual({ ok: false, problem: 'grpc.health.v1.Health/Check("") timed out after 500ms' });
    for (const socket of sockets) socket.destroy();

    const http1 = createHttpServer((_req, res) => res.end("ok"));
    const http1Port = await listening(http1 as unknown as Server);
    const wrongProtocol = await probeGrpcHealth(target(http1Port));
    expect(wrongProtocol.ok).toBe(false);
    expect(!wrongProtocol.ok && wrongProtocol.problem).toMatch(
      /^grpc\.health\.v1\.Health\/Check\(""\) (failed|timed out)/,
    );
  });
});

/** What a checker told its replica, in order. */
function recorded(): { events: string[]; listener: HealthListener } {
  const events: string[] = [];
  const listener: HealthListener = {
    readinessChanged: (ready) => events.push(ready ? "ready" : "not ready"),
    checkFailed: (problem) => events.push(`failed: ${problem}`),
    restartNeeded: (problem) => events.push(`restart: ${problem}`),
  };
  return { events, listener };
}

describe("HealthChecker with health.grpc", () => {
  function check(port: number, fields: Record<string, unknown>) {
    const { events, listener } = recorded();
    const checker = new HealthChecker({
      health: health({ interval: "100ms", timeout: "500ms", ...fields }),
      host: "127.0.0.1",
      port,
      listener,
    });
    checkers.push(checker);
    checker.start();
    return events;
  }

  it("puts a SERVING replica in rotation", async () => {
    const app = await startGrpcApp("serving");
    apps.push(app);
    const events = check(app.endpoint.port, {});
    await eventually("the replica is ready", () => events.includes("ready"), 10_000);
  });

  it("never puts a NOT_SERVING replica in rotation, and restarts it after its startup grace", async () => {
    const app = await startGrpcApp("not-serving", { HEALTH_STATUS: "NOT_SERVING" });
    apps.push(app);
    const events = check(app.endpoint.port, { startupGrace: "1s" });
    await eventually("a restart is asked for", () => events.some((e) => e.startsWith("restart:")), 10_000);
    expect(events).not.toContain("ready");
    expect(events).toContain('failed: grpc.health.v1.Health/Check("") answered NOT_SERVING');
    expect(events.find((e) => e.startsWith("restart:"))).toMatch(
      /^restart: no health check passed within 1(\.0+)?s of start \(last: grpc\.health\.v1\.Health\/Check\(""\) answered NOT_SERVING\)$/,
    );
  });

  it("takes a replica that comes up after refused checks into rotation", async () => {
    // The port is known before anything listens on it: the first checks are refused.
    const port = await listening(createServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const events = check(port, {});
    await eventually(
      "five checks were refused",
      () => events.filter((e) => e.includes("UNAVAILABLE")).length >= 5,
      10_000,
    );
    expect(events).not.toContain("ready");
    const app = await startGrpcApp("late", { PORT: String(port) });
    apps.push(app);
    await eventually("the replica is ready", () => events.includes("ready"), 10_000);
  });
});

/** A plain node:http2 server (h2c, prior knowledge only) in this process, answering GET /health with `status`. */
async function h2cServer(status: number): Promise<number> {
  const server = createH2cServer((req, res) => {
    res.writeHead(req.url === "/health" ? status : 404, { "content-type": "text/plain" });
    res.end(status === 200 ? "fine" : "down for maintenance");
  });
  return listening(server as unknown as Server);
}

describe("GET health.path to h2c replicas (router.upstreamProtocol: h2c, no health.grpc)", () => {
  const h2cTarget = (port: number) => ({
    host: "127.0.0.1",
    port,
    path: "/health",
    timeoutMs: 500,
    protocol: "h2c" as const,
  });

  it("asks over HTTP/2 cleartext: a 2xx passes, another status fails with its excerpt", async () => {
    const up = await h2cServer(200);
    const down = await h2cServer(503);
    expect(await probeHealth(h2cTarget(up))).toEqual({ ok: true });
    expect(await probeHealth(h2cTarget(down))).toEqual({
      ok: false,
      problem: "GET /health answered 503: down for maintenance",
    });
    // The same server asked over HTTP/1.1 never answers a valid HTTP/1.1 head (why h2c needs its own probe).
    const overHttp1 = await probeHealth({ ...h2cTarget(up), protocol: "http1" });
    expect(overHttp1.ok).toBe(false);
  });

  it("fails without throwing or hanging: nothing listening, a server that never answers, an HTTP/1.1 server", async () => {
    const refusedPort = await listening(createServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    expect(await probeHealth(h2cTarget(refusedPort))).toEqual({
      ok: false,
      problem: `GET /health failed: connect ECONNREFUSED 127.0.0.1:${refusedPort}`,
    });

    const sockets: Socket[] = [];
    const silentPort = await listening(createServer((socket) => sockets.push(socket)));
    const began = performance.now();
    const silence = await probeHealth(h2cTarget(silentPort));
    // 500 ms timeout; the margin is for a busy machine, far below a hang.
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(silence).toEqual({ ok: false, problem: "GET /health timed out after 500ms" });
    for (const socket of sockets) socket.destroy();

    const http1Port = await listening(createHttpServer((_req, res) => res.end("ok")) as unknown as Server);
    const wrongProtocol = await probeHealth(h2cTarget(http1Port));
    // nghttp2 takes the HTTP/1.1 server's 400 for a protocol error; the problem says what to look at.
    expect(!wrongProtocol.ok && wrongProtocol.problem).toMatch(
      /^GET \/health (failed: .*does the replica speak HTTP\/2 cleartext|timed out)/,
    );
  });

  it("HealthChecker with protocol h2c: a server answering 200 becomes ready; one answering 503 never does and is restarted", async () => {
    const checkWith = (port: number) => {
      const { events, listener } = recorded();
      const health = configSchema.parse({
        service: "shop",
        version: "1",
        start: { command: "true" },
        health: { path: "/health", interval: "100ms", timeout: "500ms", startupGrace: "1s" },
      }).health;
      const checker = new HealthChecker({
        health,
        host: "127.0.0.1",
        port,
        listener,
        protocol: "h2c",
      });
      checkers.push(checker);
      checker.start();
      return events;
    };
    const ready = checkWith(await h2cServer(200));
    const down = checkWith(await h2cServer(503));
    await eventually("the 200 server is ready", () => ready.includes("ready"), 10_000);
    await eventually(
      "a restart of the 503 server is asked for",
      () => down.some((e) => e.startsWith("restart:")),
      10_000,
    );
    expect(down).not.toContain("ready");
    expect(down.find((e) => e.startsWith("restart:"))).toMatch(
      /\(last: GET \/health answered 503: down for maintenance\)$/,
    );
  });

  it("the local platform checks its replicas over h2c when cutover.yaml says router.upstreamProtocol: h2c", async () => {
    const load = (env: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), "cutover-h2c-health-"));
      const config = configSchema.parse({
        service: "shop",
        version: "1.0.0",
        start: { command: `node ${H2C_APP}`, env },
        health: { path: "/health", interval: "100ms", timeout: "500ms", startupGrace: "30s" },
        router: { upstreamProtocol: "h2c" },
      });
      // The router is built but never started: only the platform runs here.
      const loaded = { file: join(dir, "cutover.yaml"), dir, config, stateDir: dir };
      const logger = pino({ enabled: false });
      const { platform } = localParts(loaded, logger, { dataPlane: createDataPlane(loaded, logger) });
      platforms.push(platform);
      return platform;
    };
    const serving = load({});
    await serving.start("blue", "1.0.0", 1);
    await serving.waitReady("blue", { timeoutMs: 20_000 });

    const failing = load({ HEALTH_STATUS: "503" });
    await failing.start("blue", "1.0.0", 1);
    const error = await failing.waitReady("blue", { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/GET \/health answered 503: health 503/);
  }, 40_000);
});
