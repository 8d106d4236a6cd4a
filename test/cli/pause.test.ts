/**
 * `cutover pause` and `cutover resume` against a real daemon (`cutover up`, its own process) serving the demo
 * app, under a loop of requests through its router; and the admin API's and the Kubernetes control's
 * refusals. Each request carries a unique id in its body, which the demo app's POST /echo sends back.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { Pool } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { EngineControl } from "../../src/control/engine-control.js";
import { AdminServer, pauseRequest } from "../../src/daemon/admin-server.js";
import type { Engine } from "../../src/engine/engine.js";
import type { HoldResult, HoldState } from "../../src/engine/ports/traffic-router.js";
import { hasCode } from "../../src/errors.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
afterEach(async () => {
  for (const project of started.splice(0)) await runCli(project, "down");
});

async function up(project: Project): Promise<void> {
  started.push(project);
  const result = await runCli(project, "up");
  if (result.code !== 0) throw new Error(`up failed: ${result.stderr}`);
}

type Phase = "before" | "paused" | "resuming";

/** One request of the loop: when it was sent and answered, relative to the pause, and what came back. */
interface Sample {
  readonly id: string;
  readonly sentIn: Phase;
  answeredIn: Phase | null;
  status: number;
  body: string;
  error: string | null;
}

/** `connections` kept-alive connections each sending POST /echo with a unique id, one after another. */
function startLoop(url: string, connections: number, phase: () => Phase) {
  const pool = new Pool(url, { connections });
  const samples: Sample[] = [];
  let running = true;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (running) {
      const sample: Sample = {
        id: `req-${next++}`,
        sentIn: phase(),
        answeredIn: null,
        status: 0,
        body: "",
        error: null,
      };
      samples.push(sample);
      try {
        const response = await pool.request({ path: "/echo", method: "POST", body: sample.id });
        sample.body = await response.body.text();
        sample.status = response.statusCode;
      } catch (error) {
        sample.error = String(error);
      }
      sample.answeredIn = phase();
    }
  };
  const workers = Array.from({ length: connections }, worker);
  return {
    samples,
    waiting: () => samples.filter((s) => s.answeredIn === null),
    async stop(): Promise<Sample[]> {
      running = false;
      await Promise.all(workers);
      await pool.close();
      return samples;
    },
  };
}

const token = (p: Project) => readFileSync(join(p.dir, ".cutover/token"), "utf8").trim();

async function adminMetrics(project: Project): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${project.admin}/metrics`, {
    headers: { authorization: `Bearer ${token(project)}` },
  });
  return response.text();
}

describe("cutover pause and resume", () => {
  it("holds the requests of a load loop and releases each exactly once, none failed", {
    timeout: 120_000,
  }, async () => {
    const project = await makeProject();
    await up(project);
    let phase: Phase = "before";
    const loop = startLoop(`http://127.0.0.1:${project.listen}`, 8, () => phase);
    await eventually(
      "the loop got answers",
      () => loop.samples.filter((s) => s.status === 200).length >= 40,
      20_000,
    );

    const paused = await runCli(project, "--json", "pause", "--timeout", "60s");
    expect(paused.code, paused.stderr).toBe(0);
    phase = "paused";
    const state = JSON.parse(paused.stdout) as HoldState;
    expect(state).toMatchObject({ reason: "cutover pause" });
    expect(state.releaseAt - state.since).toBe(60_000);

    // Every connection's next request waits at the router (the router's own count says so); none is answered.
    await eventually(
      "the router holds 8 requests, one per connection",
      async () => (await adminMetrics(project)).includes("cutover_held_requests 8"),
      20_000,
    );
    const heldIds = loop.waiting().map((s) => s.id);
    expect(heldIds.length).toBe(8);
    const again = await runCli(project, "pause");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /requests are held already since .* \(cutover pause\); run `cutover resume` first/,
    );

    phase = "resuming";
    const resumed = await runCli(project, "--json", "resume");
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as HoldResult;
    expect(result).toMatchObject({ held: 8, timedOut: false, colour: "blue", gone: 0, refused: 0 });
    expect(result.heldMs).toBeGreaterThan(0);

    const answeredAfter = loop.samples.length;
    await eventually(
      "the loop goes on after the release",
      () => loop.samples.length >= answeredAfter + 40,
      20_000,
    );
    const samples = await loop.stop();
    expect(
      samples
        .filter((s) => s.error !== null || s.status !== 200)
        .map((s) => `${s.id}: ${s.status} ${s.error}`),
    ).toEqual([]);
    // Each request answered once, with its own id: nothing lost, nothing answered twice or crossed.
    expect(samples.filter((s) => s.body !== s.id)).toEqual([]);
    expect(new Set(samples.map((s) => s.body)).size).toBe(samples.length);
    // The held ones were answered only after `cutover resume` was asked for, and so was every request sent
    // after `cutover pause` returned.
    const heldOnes = samples.filter((s) => heldIds.includes(s.id));
    expect(heldOnes.map((s) => s.answeredIn)).toEqual(Array(8).fill("resuming"));
    expect(samples.filter((s) => s.sentIn === "paused" && !heldIds.includes(s.id))).toEqual([]);

    const metrics = await adminMetrics(project);
    expect(metrics).toContain('cutover_held_requests_total{outcome="released"} 8');
    expect(metrics).toContain('cutover_holds_total{ended="release"} 1');
  });

  it("says what it did in words, refuses a bad timeout with exit 2, and a resume without a pause holds nothing", {
    timeout: 120_000,
  }, async () => {
    const project = await makeProject();
    await up(project);
    const tooLong = await runCli(project, "pause", "--timeout", "11m");
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/at most 10m/);
    expect((await runCli(project, "pause", "--timeout", "soon")).code).toBe(2);

    const paused = await runCli(project, "pause", "--timeout", "2m");
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(
      /^holding new requests \(cutover pause\) until `cutover resume`, or until .* \(in 2m0s\)/,
    );
    const resumed = await runCli(project, "resume");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^released 0 held request\(s\) to blue, held for \d+/);
    const nothing = await runCli(project, "resume");
    expect(nothing.code).toBe(0);
    expect(nothing.stdout.trim()).toBe("no requests were held: nothing to resume");
  });
});

describe("pause on a data plane that cannot hold", () => {
  const TOKEN = "t".repeat(32);

  it("is refused by the admin API with HOLD_UNSUPPORTED", async () => {
    const admin = new AdminServer({
      address: { host: "127.0.0.1", port: 0 },
      token: TOKEN,
      engine: {} as Engine,
      metrics: async () => ({ contentType: "text/plain", text: "" }),
      requestHold: null,
      onShutdown: () => {},
      logger: pino({ level: "silent" }),
    });
    await admin.start();
    try {
      for (const path of ["/pause", "/resume"]) {
        const response = await fetch(`http://127.0.0.1:${admin.address().port}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({
          error: "HOLD_UNSUPPORTED",
          message: expect.stringMatching(/cannot hold requests.*router\.dataPlane: builtin/),
        });
      }
    } finally {
      await admin.close();
    }
  });

  it("is refused on Kubernetes, saying the Service cannot hold requests", async () => {
    const control = new EngineControl({ engine: {} as Engine });
    const paused = await control.pause("30s").catch((error: unknown) => error);
    expect(hasCode(paused, "HOLD_UNSUPPORTED")).toBe(true);
    expect(String(paused)).toMatch(/Kubernetes: the Service .* cannot hold requests/);
    expect(hasCode(await control.resume().catch((error: unknown) => error), "HOLD_UNSUPPORTED")).toBe(true);
  });

  it("reads the pause body: 30 s by default, a duration up to 10 minutes, else BAD_TIMEOUT", () => {
    expect(pauseRequest({})).toEqual({ timeoutMs: 30_000, reason: "cutover pause" });
    expect(pauseRequest({ timeout: "90s", reason: "db switchover" })).toEqual({
      timeoutMs: 90_000,
      reason: "db switchover",
    });
    expect(pauseRequest({ timeout: "10m" }).timeoutMs).toBe(600_000);
    for (const timeout of ["601s", "0s", "soon", -5, true, {}]) {
      const error = (() => {
        try {
          return pauseRequest({ timeout });
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(hasCode(error, "BAD_TIMEOUT"), JSON.stringify(timeout)).toBe(true);
    }
  });
});
