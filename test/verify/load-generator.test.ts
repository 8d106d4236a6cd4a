import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { checkLoadTarget, isLoopbackHost } from "../../src/verify/target-guard.js";
import { closedPort } from "../helpers/upstream.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server that counts the TCP connections it accepts. */
async function countingServer(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.setHeader("x-app-version", "9.9.9");
    res.end("ok");
  });
  server.on("connection", () => {
    connections += 1;
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
  };
}

/** Runs the generator until it stops by itself at one of its bounds. */
async function run(options: ConstructorParameters<typeof LoadGenerator>[0]) {
  const load = new LoadGenerator(options);
  load.start();
  await load.finished();
  return load.stop();
}

describe("LoadGenerator", () => {
  it("keeps connections alive, or opens a fresh one per request, or both", async () => {
    const base = { connections: 4, maxDurationMs: 10_000, maxRequests: 200 };
    const keep = await countingServer();
    const kept = await run({ ...base, url: keep.url });
    expect(kept).toHaveLength(200);
    expect(keep.connections()).toBeLessThanOrEqual(4);
    expect(new Set(kept.map((s) => s.connection))).toEqual(new Set(["keep-alive"]));

    const fresh = await countingServer();
    const fresh200 = await run({ ...base, url: fresh.url, connectionMode: "fresh" });
    expect(fresh200).toHaveLength(200);
    expect(fresh.connections()).toBe(200);

    const both = await countingServer();
    const mixed = await run({ ...base, url: both.url, connectionMode: "both" });
    const byMode = summarise(mixed);
    expect(byMode.failed).toBe(0);
    expect(mixed.filter((s) => s.connection === "fresh").length).toBeGreaterThan(50);
    expect(mixed.filter((s) => s.connection === "keep-alive").length).toBeGreaterThan(50);
    expect(both.connections()).toBeGreaterThan(50);
    expect(byMode.byVersion).toEqual({ "9.9.9": 200 });
  });

  it("sends at a fixed rate, bounded by time, whatever the answers do", async () => {
    const server = await countingServer();
    const samples = await run({
      url: server.url,
      connections: 16,
      ratePerSecond: 50,
      maxDurationMs: 1_000,
      maxRequests: 10_000,
    });
    // 50 a second for 1 s: about 50 (the first at once); a busy machine may lose a few ticks.
    expect(samples.length).toBeGreaterThanOrEqual(35);
    expect(samples.length).toBeLessThanOrEqual(52);
    const gaps = samples.slice(1).map((s, i) => s.sentAt - (samples[i]?.sentAt ?? 0));
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThan(10);
  });

  it("records why a request got no answer: refused, timeout", async () => {
    const refused = await run({
      url: `http://127.0.0.1:${await closedPort()}`,
      connections: 1,
      maxDurationMs: 5_000,
      maxRequests: 3,
    });
    expect(refused.map((s) => [s.status, s.errorKind])).toEqual([
      [0, "refused"],
      [0, "refused"],
      [0, "refused"],
    ]);
    const silent = createServer(() => undefined); // never answers
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const timedOut = await run({ url, connections: 1, maxDurationMs: 500, maxRequests: 1, timeoutMs: 200 });
    expect(timedOut.map((s) => s.errorKind)).toEqual(["timeout"]);
    expect(summarise(timedOut).failuresByKind).toEqual({ timeout: 1 });
  });
});

describe("load targets", () => {
  it("allows loopback and the configured address only", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "[::1]", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ["10.0.0.1", "example.com", "0.0.0.0", "[::]", "192.168.1.1"]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
    expect(checkLoadTarget("http://127.0.0.1:8080/x?y=1")).toBe("http://127.0.0.1:8080");
    expect(checkLoadTarget("http://10.0.0.5:8080/", ["http://10.0.0.5:8080"])).toBe("http://10.0.0.5:8080");
    expect(() => checkLoadTarget("http://10.0.0.5:8081/", ["http://10.0.0.5:8080"])).toThrow(
      /only to loopback/,
    );
    expect(() => checkLoadTarget("ftp://127.0.0.1/")).toThrow(/http:\/\/ or https:\/\//);
  });
});
