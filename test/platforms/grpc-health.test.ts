/**
 * health.grpc on the local platform: the standard gRPC health check (grpc.health.v1.Health/Check) against a
 * real gRPC server (grpc-app.mjs: @grpc/grpc-js with grpc-health-check's HealthImplementation). SERVING puts a
 * replica in rotation; NOT_SERVING never does, and a replica that never serves is restarted after its
 * startup grace. Each failure says what went wrong; no check throws or hangs.
 */
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { configSchema, type HealthConfig } from "../../src/config/schema.js";
import { probeGrpcHealth } from "../../src/platforms/local/grpc-health-probe.js";
import { HealthChecker, type HealthListener } from "../../src/platforms/local/health-checker.js";
import { eventually } from "../helpers/eventually.js";
import { type GrpcApp, startGrpcApp } from "../helpers/grpc-app.js";

const apps: GrpcApp[] = [];
const servers: Server[] = [];
const checkers: HealthChecker[] = [];
const dispatcher = new Agent();
afterEach(async () => {
  for (const checker of checkers.splice(0)) checker.stop();
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

describe("HealthChecker with health.grpc", () => {
  function check(port: number, fields: Record<string, unknown>) {
    const events: string[] = [];
    const listener: HealthListener = {
      readinessChanged: (ready) => events.push(ready ? "ready" : "not ready"),
      checkFailed: (problem) => events.push(`failed: ${problem}`),
      restartNeeded: (problem) => events.push(`restart: ${problem}`),
    };
    const checker = new HealthChecker({
      health: health({ interval: "100ms", timeout: "500ms", ...fields }),
      host: "127.0.0.1",
      port,
      dispatcher,
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
