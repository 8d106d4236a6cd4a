/**
 * A bad green is failed within 30 s of the switch; traffic goes back to blue; the webhook and the
 * report see it.
 * The setup (test/helpers/analysis-setup.ts): blue and green demo-app processes behind the real Router,
 * open-loop load, the router metric source, alerts to a real webhook server, and the deploy report.
 */

import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ARTIFACTS, runCleanups, setup, switchAndJudge } from "../helpers/analysis-setup.js";
import { mainUrl } from "../helpers/start-router.js";
import { steadyLoad } from "../helpers/steady-load.js";

afterEach(runCleanups);

describe("post-switch analysis on real traffic", () => {
  it("fails a green with 5% errors within 30 s, traffic goes back to blue, the webhook hears it, the report shows it", async () => {
    const s = await setup({ ERROR_RATIO: "0.05" });
    const load = steadyLoad(mainUrl(s.router), { ratePerSecond: 150, maxDurationMs: 45_000 });
    await sleep(2_500); // blue's samples before the switch
    const { outcome, judgedInMs } = await switchAndJudge(s);
    expect(outcome?.verdict).toBe("Fail");
    expect(outcome?.summary).toMatch(/errorRate \d+\.\d% > max 1\.0% on green|critical errorRate/);
    expect(judgedInMs).toBeLessThan(30_000);
    await sleep(1_000);
    const result = await load.stop();
    expect(s.router.active).toBe("blue");
    const back = await fetch(mainUrl(s.router));
    expect(back.headers.get("x-cutover-colour")).toBe("blue");
    expect(result.failures).toEqual([]);
    await s.attached.idle();

    const json = s.webhook.calls.filter((c) => c.path === "/json");
    expect(json.map((c) => c.body.kind)).toEqual(["verdict", "rollback"]);
    expect(json[0]?.body).toMatchObject({
      source: "cutover",
      service: "shop",
      deployId: "d1",
      verdict: "Fail",
      severity: "error",
    });
    expect(json[1]?.body).toMatchObject({ kind: "rollback", active: "blue" });
    const slack = s.webhook.calls.filter((c) => c.path === "/slack");
    expect(slack).toHaveLength(1);
    expect(String(slack[0]?.body.text)).toContain("rollback of deploy d1");

    const report = s.attached.latestReport;
    expect(report).not.toBeNull();
    const html = readFileSync(report?.html as string, "utf8");
    expect(html).toContain("Rolled back");
    expect(html).toContain("rollback → blue");
    expect(html).toContain("switch blue → green");
    expect(html).not.toContain("<script");
    mkdirSync(ARTIFACTS, { recursive: true });
    copyFileSync(report?.png as string, join(ARTIFACTS, "report-rollback-errors.png"));
    copyFileSync(report?.html as string, join(ARTIFACTS, "report-rollback-errors.html"));
    console.log(`errors: Fail ${judgedInMs} ms after the switch: ${outcome?.summary}`);
  });

  it("fails a green with twice blue's latency within 30 s", async () => {
    const s = await setup({ ADDED_LATENCY_MS: "60" }, { ADDED_LATENCY_MS: "30" });
    const load = steadyLoad(mainUrl(s.router), { ratePerSecond: 150, maxDurationMs: 45_000 });
    await sleep(2_500);
    const { outcome, judgedInMs } = await switchAndJudge(s);
    expect(outcome?.verdict).toBe("Fail");
    expect(outcome?.summary).toMatch(/p50|p99/);
    expect(judgedInMs).toBeLessThan(30_000);
    await sleep(500);
    await load.stop();
    expect(s.router.active).toBe("blue");
    await s.attached.idle();
    expect(s.webhook.calls.filter((c) => c.path === "/json").map((c) => c.body.kind)).toEqual([
      "verdict",
      "rollback",
    ]);
    copyFileSync(s.attached.latestReport?.png as string, join(ARTIFACTS, "report-rollback-latency.png"));
    console.log(`latency: Fail ${judgedInMs} ms after the switch: ${outcome?.summary}`);
  });
});
