/** What only the HAProxy data plane has: its process, config written once, attaching, stats, slots. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { RouterMetricSource } from "../../src/analysis/sources/router-metric-source.js";
import { HaproxySocketError } from "../../src/router/haproxy/haproxy-admin-socket.js";
import { HaproxyConfigMismatchError } from "../../src/router/haproxy/haproxy-instance.js";
import { HaproxyStartError } from "../../src/router/haproxy/haproxy-process.js";
import { HaproxyRouter } from "../../src/router/haproxy/haproxy-router.js";
import { SlotsExhaustedError } from "../../src/router/haproxy/slot-table.js";
import { isAlive } from "../helpers/eventually.js";
import { closedPort, startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { haproxyInstalled, startHaproxyRouter } from "./data-planes.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstream(name: string): Promise<TestUpstream> {
  const started = await startUpstream(name);
  cleanups.push(() => started.stop());
  return started;
}

async function haproxy(options: Parameters<typeof startHaproxyRouter>[0] = {}) {
  const started = await startHaproxyRouter(options);
  cleanups.push(() => started.close());
  return started;
}

const urlOf = (router: HaproxyRouter) => `http://${router.address().host}:${router.address().port}`;

async function get(url: string): Promise<{ status: number; colour: unknown; body: string }> {
  const response = await request(url);
  return {
    status: response.statusCode,
    colour: response.headers["x-cutover-colour"],
    body: await response.body.text(),
  };
}

describe.skipIf(!haproxyInstalled)("HaproxyRouter", () => {
  it("writes the config once and changes everything after through the runtime API, never reloading", async () => {
    const [blue, green, blue2] = [
      await upstream("blue-0"),
      await upstream("green-0"),
      await upstream("blue-1"),
    ];
    const { router, dir } = await haproxy();
    const config = readFileSync(join(dir, "haproxy.cfg"), "utf8");
    const pid = router.pid;
    expect(pid).toBeGreaterThan(0);
    router.setEndpoints("blue", [blue.endpoint]);
    router.setEndpoints("green", [green.endpoint]);
    await router.settled();
    expect(await get(urlOf(router))).toMatchObject({ status: 200, colour: "blue", body: "blue-0" });
    await router.switchTo("green");
    router.setEndpoints("blue", [blue2.endpoint]);
    await router.settled();
    await router.switchTo("blue");
    expect(await get(urlOf(router))).toMatchObject({ status: 200, colour: "blue", body: "blue-1" });
    expect(readFileSync(join(dir, "haproxy.cfg"), "utf8")).toBe(config);
    expect(router.pid).toBe(pid);
  });

  it("answers 503 with the built-in router's JSON when a colour has no replica in rotation", async () => {
    const { router } = await haproxy();
    const response = await request(urlOf(router));
    expect(response.statusCode).toBe(503);
    expect(response.headers["x-cutover-colour"]).toBe("blue");
    expect(await response.body.json()).toMatchObject({ error: "no healthy replica", colour: "blue" });
  });

  it("stops the HAProxy it started on close, leaving no process behind", async () => {
    const { router, close } = await startHaproxyRouter();
    const pid = router.pid as number;
    expect(isAlive(pid)).toBe(true);
    await close();
    expect(isAlive(pid)).toBe(false);
  });

  it("refuses a listen address in use with an error that names it", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as { port: number }).port;
    const failure = await startHaproxyRouter({ listen: { host: "127.0.0.1", port } }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HaproxyStartError);
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it("attaches to a running HAProxy, taking the colour it serves and the replicas it has", async () => {
    const [blue, green] = [await upstream("blue-0"), await upstream("green-0")];
    const { router: owner, dir } = await haproxy();
    owner.setEndpoints("blue", [blue.endpoint]);
    owner.setEndpoints("green", [green.endpoint]);
    await owner.switchTo("green");
    const attached = new HaproxyRouter({
      listen: owner.address(),
      preview: owner.previewAddress(),
      sticky: false,
      initialActive: "blue",
      slots: 4,
      haproxy: { kind: "attach", socket: join(dir, "admin.sock") },
    });
    await attached.start();
    expect(attached.active).toBe("green");
    expect(attached.pid).toBeNull();
    attached.setEndpoints("blue", [blue.endpoint]);
    await attached.settled();
    const served = await get(urlOf(attached));
    expect(served).toMatchObject({ status: 200, colour: "green", body: "green-0" });
    await attached.switchTo("blue");
    expect(await get(urlOf(attached))).toMatchObject({ status: 200, colour: "blue", body: "blue-0" });
    await attached.close();
    expect(isAlive(owner.pid as number)).toBe(true);
    expect(await get(urlOf(owner))).toMatchObject({ status: 200, colour: "blue" });
  });

  it("refuses to attach where there is no socket, or no cutover config behind it", async () => {
    const { dir } = await haproxy({ prefix: "other" });
    const attach = (socket: string) =>
      new HaproxyRouter({
        listen: { host: "127.0.0.1", port: 1 },
        preview: null,
        sticky: false,
        initialActive: "blue",
        slots: 4,
        haproxy: { kind: "attach", socket },
      })
        .start()
        .catch((error: unknown) => error);
    expect(await attach(join(dir, "missing.sock"))).toBeInstanceOf(HaproxySocketError);
    const mismatch = await attach(join(dir, "admin.sock"));
    expect(mismatch).toBeInstanceOf(HaproxyConfigMismatchError);
    expect((mismatch as Error).message).toContain("cutover-colours.map");
  });

  it("reports per-colour responses and in-flight requests from show stat, readable by the analysis", async () => {
    const [blue, green] = [await upstream("blue-0"), await upstream("green-0")];
    const { router } = await haproxy();
    router.setEndpoints("blue", [blue.endpoint]);
    router.setEndpoints("green", [green.endpoint]);
    await router.settled();
    for (let i = 0; i < 5; i++) await get(urlOf(router));
    await get(`${urlOf(router)}/missing-but-200-here`);
    const preview = router.previewAddress();
    await get(`http://${preview?.host}:${preview?.port}/`);
    const stats = await router.stats();
    expect(stats.blue.responses["2xx"]).toBe(6);
    expect(stats.green.responses["2xx"]).toBe(1);
    const text = await router.metrics();
    expect(text).toContain('cutover_requests_total{colour="blue",status="2xx"} 6');
    expect(text).toContain('cutover_active_colour{colour="blue"} 1');
    const reading = await new RouterMetricSource(router).read();
    expect(reading.kind).toBe("counters");
    const series = reading.kind === "counters" ? reading.series : [];
    expect(series.find((s) => s.colour === "blue" && s.key === "router")?.requests).toBe(6);
  });

  it("says to raise the slots when a colour has more replicas than server slots", async () => {
    const { router } = await haproxy({ slots: 2 });
    const endpoints = [1, 2, 3].map((n) => ({ id: `blue-${n}`, host: "127.0.0.1", port: 40_000 + n }));
    router.setEndpoints("blue", endpoints);
    const failure = await router.settled().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SlotsExhaustedError);
    expect((failure as Error).message).toContain(
      "blue needs 3 servers in rotation but its HAProxy backends have 2",
    );
  });

  it("retries a replica that refuses the connection once (on another replica if any), then answers 503", async () => {
    const blue = await upstream("blue-0");
    const { router } = await haproxy();
    router.setEndpoints("blue", [{ id: "gone", host: "127.0.0.1", port: await closedPort() }]);
    await router.settled();
    const response = await request(urlOf(router));
    expect(response.statusCode).toBe(503);
    expect(response.headers["x-cutover-colour"]).toBe("blue");
    expect(await response.body.json()).toMatchObject({ colour: "blue" });
    router.setEndpoints("blue", [{ id: "gone", host: "127.0.0.1", port: await closedPort() }, blue.endpoint]);
    await router.settled();
    for (let i = 0; i < 4; i++)
      expect(await get(urlOf(router))).toMatchObject({ status: 200, body: "blue-0" });
  });
});
