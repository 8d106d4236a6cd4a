/**
 * router.workers: the built-in router in several processes (node:cluster workers) sharing one listener, driven
 * as one data plane by RouterWorkers. Real worker processes, real sockets: requests on new connections are
 * handed to the workers in turn, so a handful of them reaches every worker.
 */
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Colour } from "../../src/colour.js";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { RouterWorkers } from "../../src/router/router-workers.js";
import { startLoad } from "../helpers/colour-load.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { freePort } from "../helpers/project.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function config(port: number, workers: number | "auto" = 2, router: string[] = []) {
  const yaml = [
    "service: shop",
    "version: 1.0.0",
    "start:",
    "  command: 'true'",
    "router:",
    `  listen: 127.0.0.1:${port}`,
    `  preview: 127.0.0.1:${port + 1}`,
    `  workers: ${workers}`,
    ...router.map((line) => `  ${line}`),
  ].join("\n");
  return parseConfig(yaml, join(import.meta.dirname, "cutover.yaml"));
}

/** Two workers in front of two replicas per colour, blue active. */
async function twoWorkers(): Promise<{ router: RouterWorkers; url: string; upstreams: TestUpstream[] }> {
  const upstreams: TestUpstream[] = [];
  for (const name of ["blue-0", "blue-1", "green-0", "green-1"]) upstreams.push(await startUpstream(name));
  cleanups.push(async () => {
    for (const upstream of upstreams) await upstream.stop();
  });
  const port = await freePort();
  const router = new RouterWorkers({ loaded: config(port), workers: 2, logger: silentLogger() });
  for (const colour of ["blue", "green"] as const)
    router.setEndpoints(
      colour,
      upstreams.filter((u) => u.name.startsWith(colour)).map((u) => u.endpoint),
    );
  await router.start();
  cleanups.push(() => router.close());
  return { router, url: `http://127.0.0.1:${router.address().port}`, upstreams };
}

/** GET `path` on a connection of its own (so that it may reach any worker); the colour that answered. */
function freshGet(url: string, path = "/"): Promise<{ status: number; colour: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, colour: String(res.headers["x-cutover-colour"]), body }),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

async function coloursOfFresh(url: string, count: number): Promise<string[]> {
  const answers = await Promise.all(Array.from({ length: count }, () => freshGet(url)));
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.body.startsWith(answer.colour)).toBe(true);
  }
  return answers.map((answer) => answer.colour);
}

/** cutover_requests_total{colour,status="200"} in Prometheus text. */
function answered200(text: string, colour: Colour): number {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`cutover_requests_total{colour="${colour}",status="200"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("RouterWorkers (router.workers: 2)", () => {
  it("serves from both workers; each switch returns once both have switched, and loses no request", async () => {
    const { router, url } = await twoWorkers();
    expect(router.pids).toHaveLength(2);
    expect(await coloursOfFresh(url, 8)).toEqual(Array(8).fill("blue"));
    // Both processes answered some of them: the listener is shared, not served by one.
    const perWorker = await router.callAll<{ name: string; values: { value: number }[] }[]>({
      method: "metrics",
    });
    const counts = perWorker.map((metrics) =>
      (metrics.find((m) => m.name === "cutover_requests_total")?.values ?? []).reduce(
        (s, v) => s + v.value,
        0,
      ),
    );
    expect(counts).toHaveLength(2);
    expect(counts.every((count) => count > 0)).toBe(true);

    const load = startLoad(url, 20);
    let target: Colour = "blue";
    for (let i = 0; i < 20; i++) {
      target = target === "blue" ? "green" : "blue";
      const result = await router.switchTo(target);
      expect(result.to).toBe(target);
      // Sent after the switch returned, on new connections: whichever worker takes one, the new colour answers.
      expect(await coloursOfFresh(url, 6)).toEqual(Array(6).fill(target));
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.answered).toBeGreaterThan(20);
    const text = await router.metrics();
    // Every worker counts every switch: the data plane says 20, not 40.
    expect(text).toContain("cutover_switches_total 20");
    expect(text).toContain('cutover_active_colour{colour="blue"} 1');
    expect(text).toContain('cutover_active_colour{colour="green"} 0');
    // The requests of both workers add up: the 8 + 20 x 6 fresh ones at least, and the load's.
    expect(answered200(text, "blue") + answered200(text, "green")).toBe(8 + 20 * 6 + result.answered);
    // The duration histograms add up too: one observation per answered request, per colour.
    for (const colour of ["blue", "green"] as const)
      expect(text).toContain(
        `cutover_request_duration_seconds_count{colour="${colour}"} ${answered200(text, colour)}`,
      );
  });

  it("starts a worker that died again, on the colour and replicas of now, and keeps its counts", async () => {
    const { router, url, upstreams } = await twoWorkers();
    await router.switchTo("green");
    const green0 = upstreams.find((u) => u.name === "green-0");
    router.setEndpoints("green", [green0?.endpoint ?? ({} as never)]);
    expect(await coloursOfFresh(url, 10)).toEqual(Array(10).fill("green"));
    const before = answered200(await router.metrics(), "green");
    expect(before).toBe(10);
    const [victim, survivor] = router.pids;
    process.kill(victim as number, "SIGKILL");
    await eventually(
      "a new worker replaced the killed one",
      () => {
        const pids = router.pids;
        return pids.length === 2 && !pids.includes(victim as number) && pids.includes(survivor as number);
      },
      20_000,
    );
    expect(isAlive(victim as number)).toBe(false);
    await eventually(
      "the new worker listens",
      async () => {
        await router.refresh();
        return (await router.callAll({ method: "snapshot" })).length === 2;
      },
      20_000,
    );
    // The new worker serves green, from green-0 only (the replicas in rotation now, not at the first start).
    const answers = await Promise.all(Array.from({ length: 10 }, () => freshGet(url)));
    expect(answers.map((a) => `${a.status} ${a.body}`)).toEqual(Array(10).fill("200 green-0"));
    // The dead worker's 200s (counted at the last scrape) are still in the total.
    expect(answered200(await router.metrics(), "green")).toBe(before + 10);
    // The other one dies too: the counts of both dead workers are kept, once each.
    process.kill(survivor as number, "SIGKILL");
    await eventually(
      "a new worker replaced the second one killed",
      async () => {
        const pids = router.pids;
        return (
          !pids.includes(survivor as number) && (await router.callAll({ method: "snapshot" })).length === 2
        );
      },
      20_000,
    );
    expect(await coloursOfFresh(url, 4)).toEqual(Array(4).fill("green"));
    expect(answered200(await router.metrics(), "green")).toBe(before + 14);
    expect(answered200(await router.metrics(), "green")).toBe(before + 14);
  });

  it("holds new requests in every worker and releases them all to the colour active at the release", async () => {
    const { router, url } = await twoWorkers();
    await router.requestHold.hold(30_000, "database switchover");
    const waiting = Promise.all(Array.from({ length: 6 }, () => freshGet(url)));
    await eventually(
      "6 requests are held",
      async () => {
        await router.refresh();
        return router.requestHold.holding()?.held === 6;
      },
      20_000,
    );
    expect(router.inFlight("blue")).toBe(0);
    await router.switchTo("green");
    const result = await router.requestHold.release();
    expect(result).toMatchObject({ held: 6, colour: "green", timedOut: false, gone: 0, refused: 0 });
    expect((await waiting).map((a) => a.colour)).toEqual(Array(6).fill("green"));
    expect(router.requestHold.holding()).toBeNull();
    expect(await router.metrics()).toContain('cutover_holds_total{ended="release"} 1');

    // A second hold ends by its own timeout, timed by the data plane, and says so.
    await router.requestHold.hold(300, "a pause");
    const late = freshGet(url);
    const ended = await router.requestHold.released();
    expect(ended).toMatchObject({ timedOut: true, colour: "green" });
    expect((await late).colour).toBe("green");
    // A hold while one is on is refused with the one-process router's words.
    await router.requestHold.hold(30_000, "first");
    await expect(router.requestHold.hold(1_000, "second")).rejects.toMatchObject({ code: "HOLD_ACTIVE" });
    await router.requestHold.release();
  });

  it("drains the old colour in every worker and adds up what finished", async () => {
    const { router, url, upstreams } = await twoWorkers();
    // Answers that wait for the test: in flight for as long as it takes, however slow the machine.
    const waiting = Promise.all(Array.from({ length: 4 }, () => freshGet(url, "/hold")));
    await eventually(
      "4 requests are in flight, each at a blue replica",
      async () => {
        await router.refresh();
        const arrived = upstreams.reduce((sum, u) => sum + u.requests, 0);
        return router.inFlight("blue") === 4 && arrived === 4;
      },
      20_000,
    );
    await router.switchTo("green");
    const drained = router.drain("blue", 30_000);
    for (const upstream of upstreams) upstream.release();
    expect(await drained).toEqual({ completed: 4, cancelled: 0 });
    expect((await waiting).map((a) => a.body)).toEqual(Array(4).fill("first\nrest\n"));
  });

  it("fails to start with the listener's own error and leaves no worker behind", async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const router = new RouterWorkers({ loaded: config(port), workers: 2, logger: silentLogger() });
    const started = router.start();
    // Forked at once, before they try to listen.
    const pids = router.pids;
    expect(pids).toHaveLength(2);
    await expect(started).rejects.toMatchObject({
      code: "ROUTER_LISTEN_FAILED",
      message: expect.stringContaining(`127.0.0.1:${port} is already in use`),
    });
    for (const pid of pids) await eventually(`worker ${pid} exited`, () => !isAlive(pid));
  });
});

describe("router.workers in cutover.yaml", () => {
  it("takes a number or auto, default 1", async () => {
    const port = await freePort();
    expect(config(port, 3).config.router.workers).toBe(3);
    expect(config(port, "auto").config.router.workers).toBe("auto");
  });

  it("is refused with dataPlane: haproxy and with tls.acme, saying what to do instead", async () => {
    const port = await freePort();
    expect(() => config(port, 2, ["dataPlane: haproxy"])).toThrow(ConfigError);
    expect(() => config(port, 2, ["dataPlane: haproxy"])).toThrow(/router\.workers.*haproxy\.threads/s);
    const acme = [
      "tls:",
      `  redirectHttp: 127.0.0.1:${port + 2}`,
      "  acme:",
      "    domains: [app.test]",
      "    directory: https://127.0.0.1:14000/dir",
    ];
    expect(() => config(port, 2, acme)).toThrow(/router\.workers.*one process orders and renews/s);
    expect(() => config(port, 0)).toThrow(/router\.workers/);
  });
});
