/**
 * kill -9 of one of two replicas (real processes, the demo app answering after 20 ms, so a few requests are
 * always in flight on it) while 500 requests a second go through the router. The router alone, with no health
 * checker to take the dead replica out: every request sent to it after the kill is refused, every one in
 * flight at the kill loses its connection.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/router.js";
import { type DemoApp, startDemoApp } from "../helpers/demo-app.js";
import { eventually } from "../helpers/eventually.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";

const RATE = 500;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Sent {
  readonly status: number;
  readonly error: string | null;
}

/**
 * `count` requests at RATE a second (open loop); kills `victim` once a third of them are sent. Just before
 * the kill, two slow ones (2 s) go out, one to each replica (the router takes turns): however late a busy
 * machine runs this loop, the kill always finds one in flight on the victim.
 */
async function underKill(
  router: Router,
  victim: DemoApp,
  count: number,
  request: { method: "GET" | "POST"; headers?: Record<string, string>; body?: string },
): Promise<Sent[]> {
  const pool = new Pool(mainUrl(router), { connections: 32 });
  cleanups.push(() => pool.close());
  const send = (path: string): Promise<Sent> =>
    pool
      .request({ path, ...request })
      .then(async (answer) => {
        await answer.body.arrayBuffer();
        return { status: answer.statusCode, error: null };
      })
      .catch((error: Error) => ({
        status: 0,
        error: (error as NodeJS.ErrnoException).code ?? error.message,
      }));
  const answers: Promise<Sent>[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    // Open loop: request i leaves at i / RATE seconds, whatever the answers before it did.
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (i === Math.floor(count / 3)) {
      answers.push(send("/slow?ms=2000"), send("/slow?ms=2000"));
      await eventually(
        "the victim has a slow request in flight",
        async () => (await slowInFlight(victim)) > 0,
      );
      await victim.stop(); // SIGKILL, and its exit seen
    }
    answers.push(send("/"));
  }
  return Promise.all(answers);
}

/** Requests to /slow the demo app has received and not yet answered (its http_requests_in_flight gauge). */
async function slowInFlight(app: DemoApp): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("http_requests_in_flight{") && l.includes('path="/slow"'));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

/** The value of cutover_upstream_failures_total for blue, `reason` and `retried`; 0 when absent. */
async function upstreamFailures(router: Router, reason: string, retried: boolean): Promise<number> {
  const line = (await router.metrics())
    .split("\n")
    .find((l) =>
      l.startsWith(`cutover_upstream_failures_total{colour="blue",reason="${reason}",retried="${retried}"}`),
    );
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

async function twoReplicas(): Promise<{ router: Router; victim: DemoApp }> {
  const [a, b] = await Promise.all([
    startDemoApp("blue", "1.0.0", { ADDED_LATENCY_MS: "20" }),
    startDemoApp("blue", "1.0.0", { ADDED_LATENCY_MS: "20" }),
  ]);
  cleanups.push(a.stop, b.stop);
  const router = await startRouter();
  cleanups.push(() => router.close());
  router.setEndpoints("blue", [
    { ...a.endpoint, id: "blue-0" },
    { ...b.endpoint, id: "blue-1" },
  ]);
  return { router, victim: a };
}

const failed = (sent: readonly Sent[]) => sent.filter((s) => s.status !== 200);

describe("the router's retries when a replica is killed under load", () => {
  it("GETs: none fails; those in flight on the dead replica and those sent to it after are retried once", async () => {
    const { router, victim } = await twoReplicas();
    const sent = await underKill(router, victim, 1_500, { method: "GET" });
    expect(failed(sent)).toEqual([]);
    // Those in flight on the replica when it died lost their connection, and were sent again.
    expect(await upstreamFailures(router, "reset", true)).toBeGreaterThan(0);
    // After the kill, every other request went to the dead replica first: refused, then sent to the other one.
    expect(await upstreamFailures(router, "connect", true)).toBeGreaterThan(100);
    expect(await upstreamFailures(router, "connect", false)).toBe(0);
    expect(await upstreamFailures(router, "reset", false)).toBe(0);
  });

  it("POSTs: one whose connection broke under it fails with 502 and is counted, never sent twice; one refused is sent on", async () => {
    const { router, victim } = await twoReplicas();
    const sent = await underKill(router, victim, 1_500, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "order 42",
    });
    // The POSTs in flight on the killed replica (the slow one, and ~5 at 250 a second and 20 ms each): the
    // replica may have acted on them, so they are answered 502 and not sent again.
    const broken = failed(sent);
    expect(broken.length).toBeGreaterThan(0);
    expect(new Set(broken.map((s) => s.status))).toEqual(new Set([502]));
    expect(await upstreamFailures(router, "reset", false)).toBe(broken.length);
    expect(await upstreamFailures(router, "reset", true)).toBe(0);
    // Those sent to it after the kill never reached it (connection refused): sent to the other replica.
    expect(await upstreamFailures(router, "connect", true)).toBeGreaterThan(100);
  });

  it("POSTs with an Idempotency-Key header: the client says twice is safe, so none fails", async () => {
    const { router, victim } = await twoReplicas();
    const sent = await underKill(router, victim, 1_500, {
      method: "POST",
      headers: { "content-type": "text/plain", "idempotency-key": "a1b2" },
      body: "order 42",
    });
    expect(failed(sent)).toEqual([]);
    expect(await upstreamFailures(router, "reset", true)).toBeGreaterThan(0); // kept bodies, sent again
    expect(await upstreamFailures(router, "reset", false)).toBe(0);
    expect(await upstreamFailures(router, "connect", true)).toBeGreaterThan(100);
  });
});
