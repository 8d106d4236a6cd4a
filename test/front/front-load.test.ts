/**
 * The global front under open-loop load (300 requests a second) with two regions: a drained region takes no
 * new request and every request in flight finishes; a region that dies costs (almost) no request, and the
 * front's probe takes it out within interval x failureThreshold.
 */
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { BuiltinFrontClient } from "../../src/front/builtin-front-client.js";
import { eventually } from "../helpers/eventually.js";
import {
  adminCall,
  failedAnswers,
  openLoopLoad,
  type RegionStandIn,
  regionConfig,
  startRegion,
  startTestFront,
  type TestFront,
} from "./front-fixtures.js";

const RATE = 300;
const fronts: TestFront[] = [];
const regions: RegionStandIn[] = [];
afterEach(async () => {
  await Promise.all(fronts.splice(0).map((f) => f.close()));
  await Promise.all(regions.splice(0).map((r) => r.kill().catch(() => undefined)));
});

async function euFirst(delayMs: number): Promise<{ front: TestFront; eu: RegionStandIn; us: RegionStandIn }> {
  const [eu, us] = [await startRegion("eu", { delayMs }), await startRegion("us", { delayMs })];
  regions.push(eu, us);
  const front = await startTestFront([regionConfig("eu", eu.url), regionConfig("us", us.url)]);
  fronts.push(front);
  await front.allHealthy();
  return { front, eu, us };
}

const count = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);

describe("the global front under load", () => {
  it("drains a region mid-load: no failed request, no new request reaches it after drain returned", async () => {
    // Each answer takes 30 ms: some ten requests are in flight at eu when it is drained.
    const { front, eu, us } = await euFirst(30);
    const load = openLoopLoad(front.url, { ratePerSecond: RATE });
    await eventually("eu has taken 300 requests", () => eu.requests >= 300, 10_000);
    // Three requests eu holds until after the drain: in flight there while it is drained.
    const inFlight = [1, 2, 3].map(() => fetch(`${front.url}/held`));
    await eventually("eu holds three requests", () => eu.holding === 3);
    await new BuiltinFrontClient({ url: front.adminUrl, token: front.token, pollMs: 20 }).drain("eu");
    const drainedAt = performance.now();
    const atDrain = eu.requests;
    await eventually("us has taken 300 requests", () => us.requests >= 300, 10_000);
    eu.releaseHeld();
    const finished = await Promise.all(
      inFlight.map(async (answer) => {
        const response = await answer;
        return `${response.status} ${await response.text()}`;
      }),
    );
    const answers = await load.stop();

    const after = answers.filter((a) => a.sentAt > drainedAt);
    const reachedEu = after.filter((a) => eu.seqs.has(a.seq));
    console.log(
      `drain under load: ${answers.length} requests, ${failedAnswers(answers).length} failed; ${atDrain} reached eu before the drain returned, ${eu.requests - atDrain} after it; ${after.length} sent after it, ${reachedEu.length} of those at eu; the ${finished.length} held at eu: ${finished.join(", ")}`,
    );
    expect(failedAnswers(answers)).toEqual([]);
    // Enough requests after the drain to show where they went (how many is the machine's, not the front's).
    expect(after.length).toBeGreaterThan(20);
    expect(reachedEu).toEqual([]);
    expect(after.every((a) => a.region === "us")).toBe(true);
    expect(finished).toEqual(["200 eu", "200 eu", "200 eu"]);
  });

  it("fails over when the first region dies under load, within interval x failureThreshold", async () => {
    const { front, eu, us } = await euFirst(10);
    // Every tenth request is a POST with a body: not safe to send twice once the region has read it.
    const load = openLoopLoad(front.url, { ratePerSecond: RATE, postEvery: 10 });
    await eventually("eu has taken 300 requests", () => eu.requests >= 300, 10_000);
    const killedAt = performance.now();
    await eu.kill();
    await eventually("the front finds eu unhealthy", () => front.state("eu").healthy === false, 5_000);
    const failoverMs = performance.now() - killedAt;
    const atUs = us.requests;
    await eventually("us has taken 300 more requests", () => us.requests >= atUs + 300, 10_000);
    const answers = await load.stop();

    const failed = failedAnswers(answers);
    const failedGets = failed.filter((a) => a.method === "GET");
    const failedPosts = failed.filter((a) => a.method === "POST");
    const metrics = await (await adminCall(front, "GET", "/metrics")).text();
    const retried = count(metrics, /cutover_front_requests_total\{region="eu",outcome="retried"\} (\d+)/);
    const failedAtEu = count(metrics, /cutover_front_requests_total\{region="eu",outcome="failed"\} (\d+)/);
    console.log(
      `region killed under load: ${answers.length} requests, failover ${Math.round(failoverMs)} ms (probe every 100 ms, failureThreshold 3), ${retried} retried on us, ${failedGets.length} GETs and ${failedPosts.length} POSTs failed (${failed.map((a) => a.status).join(",")}), ${failedAtEu} counted failed at eu`,
    );
    // The last passing probe may have been just before the kill: three failures follow 100, 200, 300 ms later.
    expect(failoverMs).toBeLessThan(100 * 3 + 500);
    expect(failedGets).toEqual([]);
    // Only a POST eu had begun to read when it died may fail: a handful at most.
    expect(failedPosts.length).toBeLessThanOrEqual(5);
    expect(failedAtEu).toBe(failed.length);
    expect(answers.filter((a) => a.region === "us").length).toBeGreaterThan(300);
  });
});
