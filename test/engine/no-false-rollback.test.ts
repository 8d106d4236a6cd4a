/**
 * Issue 4's "a green as good as blue: 20 runs in a row, no false rollback", live: 20 deploys through the
 * daemon (real Engine, router, supervisor, router metric source, judge), each new version exactly as good
 * as the live one, under steady open-loop load, with the post-switch analysis and its Mann-Whitney
 * comparison on. Every deploy must end Healthy on its new version, with no request lost.
 * (test/analysis/no-false-fail.test.ts replays recorded readings for the same question at a faster clock.)
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon/daemon.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { startDaemon } from "../helpers/daemon.js";
import { makeProject } from "../helpers/project.js";

const RUNS = 20;

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop();
  daemon = null;
});

// The judge a user gets by default (the Mann-Whitney comparison of error rate, p50 and p99) and two
// conditions (an absolute error rate, p99 against the old colour), over a short window so 20 deploys fit
// in about a minute. The p99 of one 2 s measurement is that of about 200 requests, about its second
// slowest: on a machine with four CPU hogs it swings more than 2x between two equal colours (seen: 21.8 ms
// on green against 10.0 ms on blue, twice in one deploy), so the ratio allowed is 3x. A real regression is
// caught by the judge and by test/analysis/post-switch-rollback.test.ts.
//
// The judge needs judge.minSamples intervals with traffic from each colour, or it says Inconclusive and the
// deploy waits for a person. Under four CPU hogs the sampler's 300 ms ticks come late (a late tick covers
// the longer interval), and six of them gave fewer than the default five samples: the first deploy paused
// "too little traffic to judge" with 150 requests on each colour. Eight readings and the judge's minimum of
// three samples keep the question this test asks (is an equal green ever failed?) answerable on a busy
// machine; a pause still fails the test, at once, with its reason.
const analysis = `analysis:
  source: { type: router }
  interval: 300ms
  count: 8
  lookback: 2s
  minRequests: 20
  failureLimit: 1
  conditions:
    - { metric: errorRate, max: 0.01 }
    - { metric: p99, maxRatio: 3 }
  judge: { minSamples: 3 }
  preSwitch: false
  mirror: { share: 1 }
`;

describe("a green as good as blue", () => {
  it(`is never rolled back: ${RUNS} deploys in a row end Healthy`, async () => {
    // Both colours answer after the same 5 ms of work, as a real service would, not in microseconds.
    const same = { ADDED_LATENCY_MS: "5" };
    const project = await makeProject({ replicas: 1, extra: analysis });
    const versions = Array.from({ length: RUNS }, (_, i) => `1.${i + 1}.0`);
    for (const version of ["1.0.0", ...versions]) project.release(version, same);
    daemon = await startDaemon(project);
    const load = new LoadGenerator({
      url: `http://127.0.0.1:${project.listen}`,
      connections: 8,
      ratePerSecond: 100,
      // The load lasts as long as the deploys do (it is stopped below); this is only its outer bound.
      maxDurationMs: 390_000,
      maxRequests: 1_000_000,
    });
    load.start();
    const outcomes: string[] = [];
    try {
      for (const version of versions) {
        const engine = (daemon as Daemon).engine;
        const started = await engine.deploy(version);
        // follow() ends when the deploy ends or waits for a person (an Inconclusive verdict pauses it): a
        // pause fails the test now, with its reason, instead of at the test's timeout.
        let record = started.record;
        for await (const seen of engine.follow(started.record.id)) record = seen;
        if (record.phase === "Paused") {
          outcomes.push(`${version}: Paused: ${record.reason ?? ""}`);
          await engine.abort().catch(() => undefined);
          await started.done;
        } else record = await started.done;
        const verdict = record.steps.find((s) => s.name === "post-analysis")?.detail ?? "";
        outcomes.push(`${version}: ${record.phase} ${verdict}`);
        expect(record.phase, outcomes.join("\n")).toBe("Healthy");
        expect(verdict, outcomes.join("\n")).toMatch(/^(Pass|Marginal)/);
      }
    } finally {
      console.log(outcomes.join("\n"));
    }
    const summary = summarise(await load.stop());
    expect(summary.failed).toBe(0);
    expect(summary.sent).toBeGreaterThan(RUNS * 100);
    // About a minute on a quiet machine, a few under four CPU hogs. (A run that once "took more than 180 s"
    // under them had in fact paused on an Inconclusive verdict; a pause now fails at once, see above.)
  }, 400_000);
});
