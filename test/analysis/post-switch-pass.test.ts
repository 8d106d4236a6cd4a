/**
 * A green as good as blue passes live runs; too little traffic is Inconclusive, never Fail.
 * The setup (test/helpers/analysis-setup.ts): blue and green demo-app processes behind the real Router,
 * open-loop load, the router metric source, alerts to a real webhook server, and the deploy report.
 */

import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runCleanups, setup, switchAndJudge } from "../helpers/analysis-setup.js";
import { mainUrl } from "../helpers/start-router.js";
import { steadyLoad } from "../helpers/steady-load.js";

afterEach(runCleanups);

describe("post-switch analysis on real traffic", () => {
  it("passes a green as good as blue (two live runs, mirrored baseline), and writes a report", async () => {
    // mirror.share 1: the warm old colour gets the same stream as the live one, a fair baseline for latency.
    const s = await setup({ ADDED_LATENCY_MS: "30" }, { ADDED_LATENCY_MS: "30" }, 10, 1);
    const load = steadyLoad(mainUrl(s.router), { ratePerSecond: 150, maxDurationMs: 45_000 });
    await sleep(2_000);
    s.router.switchTo("green");
    const first = await s.analysis.postSwitch({
      deployId: "d0",
      version: "2.0.0",
      baseline: "blue",
      canary: "green",
      signal: AbortSignal.timeout(30_000),
    });
    expect(first?.verdict).toMatch(/^(Pass|Marginal)$/);
    s.router.switchTo("blue");
    await sleep(1_000);
    const { outcome } = await switchAndJudge(s);
    expect(outcome?.verdict).toMatch(/^(Pass|Marginal)$/);
    console.log(`good green, run 1: ${first?.summary}`);
    await load.stop();
    expect(s.router.active).toBe("green");
    await s.attached.idle();
    expect(s.webhook.calls.filter((c) => c.path === "/json").map((c) => c.body.kind)).toEqual([
      "verdict",
      "verdict",
    ]);
    expect(existsSync(s.attached.latestReport?.png as string)).toBe(true);
    console.log(`good green: ${outcome?.summary}`);
  });

  it("is Inconclusive, not Fail, when there is too little traffic", async () => {
    const s = await setup({ ERROR_RATIO: "0.5" }, {}, 8);
    const load = steadyLoad(mainUrl(s.router), { ratePerSecond: 3, maxDurationMs: 20_000 });
    await sleep(1_000);
    s.events.update({ switchedAt: new Date(s.router.switchTo("green").at).toISOString() });
    const outcome = await s.analysis.postSwitch({
      deployId: "d1",
      version: "2.0.0",
      baseline: "blue",
      canary: "green",
      signal: AbortSignal.timeout(30_000),
    });
    await load.stop();
    expect(outcome?.verdict).toBe("Inconclusive");
    expect(outcome?.summary).toContain("fewer than minRequests 30");
  });
});
