import { describe, expect, it } from "vitest";
import type { FaultResult } from "../../src/verify/faults/fault.js";
import { type Project, runCli } from "../helpers/project.js";
import {
  type DrillProjectOptions,
  downAll,
  FAULT_VERSION_FLAGS,
  makeDrillProject,
  reportOf,
  up,
} from "./verify-project.js";

/** Runs `cutover verify --faults <fault>` against a fresh project and returns the fault's result. */
async function drill(fault: string, project: DrillProjectOptions, ...flags: string[]): Promise<FaultResult> {
  const p = await makeDrillProject({ scaleDownDelay: "10s", ...project });
  const started: Project[] = [];
  try {
    await up(p, started);
    const result = await runCli(p, "--json", "verify", "--faults", fault, ...FAULT_VERSION_FLAGS, ...flags);
    const report = reportOf(result);
    const [outcome] = report.faults;
    if (!outcome) throw new Error(`no fault result: ${result.stdout}`);
    console.log(
      `${fault}: ${outcome.passed ? "as expected" : "NOT as expected"}\n  expected: ${outcome.expected}\n  happened: ${outcome.happened}`,
    );
    expect(report.criteria).toEqual([]); // no sequence was asked for
    expect(result.code, outcome.happened).toBe(outcome.passed ? 0 : 1);
    return outcome;
  } finally {
    await downAll(started);
  }
}

/**
 * The drills run four at a time (the load project's maxConcurrency): each starts a daemon, four replicas, a
 * load generator and a `cutover verify`, so on 2 cores a drill takes about as long as its group, ~25 s on a
 * quiet machine. 120 s leaves room for a busy one.
 */
const DRILL_TIMEOUT = 120_000;

// Each test has its own project, ports and daemon: they run side by side.
describe.concurrent("cutover verify --faults", { timeout: DRILL_TIMEOUT }, () => {
  it("kill-replica: kill -9 of a replica of the live colour, then of the idle one before a switch: no request fails", async () => {
    // The idle colour must still be warm for the drill's second part: with the default 10 s, a slow restart
    // of the live replica (9 s on a busy machine) let the scale-down come first and the part was skipped.
    const r = await drill("kill-replica", { scaleDownDelay: "60s" });
    expect(r.passed, r.happened).toBe(true);
    expect(r.requests.failed).toBe(0);
    expect(r.figures.restartedMs).toBeGreaterThan(0);
    expect(r.figures.idleKilledPid).not.toBeNull();
    expect(r.figures.switchOk).toBe(true);
  });

  it("unhealthy-new: the deploy aborts, traffic never leaves the live colour", async () => {
    // 15 s, not less: the same timeout holds blue's start at `up`, and with several drills starting at once
    // on 2 cores (CI) blue's first replica was not yet listening after 6 s.
    const r = await drill("unhealthy-new", { readyTimeout: "15s" });
    expect(r.passed, r.happened).toBe(true);
    expect(r.figures).toMatchObject({ phase: "Aborted", failed: 0, answeredByNew: 0, idleReplicas: 0 });
    // The reason names the replica and its last probe. Which probe that is depends on the machine: with other
    // drills side by side on 2 cores the new version may not be listening yet (CI saw ECONNREFUSED after 6 s),
    // so its own 503 body is asserted where nothing else runs: test/platforms/local-platform.test.ts.
    expect(r.happened).toMatch(
      /not ready after 15\.0+s: green-\d: GET \/health (answered 503|failed: connect ECONNREFUSED)/,
    );
  });

  it("slow-start: the deploy waits for health, then switches; nothing is answered early", async () => {
    const r = await drill("slow-start", { readyTimeout: "20s" });
    expect(r.passed, r.happened).toBe(true);
    expect(r.figures).toMatchObject({ phase: "Healthy", failed: 0, early: 0 });
    expect(r.figures.waitHealthyMs).toBeGreaterThanOrEqual(1_500); // SLOW_START_S=2
  });

  it("errors-after-switch: every failure is the new version's own 5xx, and a rollback restores service at once", async () => {
    const r = await drill("errors-after-switch", {});
    expect(r.passed, r.happened).toBe(true);
    expect(r.expected).toMatch(/no analysis is configured/);
    expect(r.figures.automaticRollback).toBe(false);
    expect(r.figures.failed).toBeGreaterThan(0);
    expect(r.figures).toMatchObject({ failedNotFromApp: 0, badAfterRollback: 0 });
  });

  // The two sides of long-request: two drills, each on its own project, side by side.
  it("long-request: a request in flight across the switch finishes on the old colour when shorter than drainTimeout", async () => {
    const fits = await drill("long-request", { drainTimeout: "4s" }, "--long-request", "1s");
    expect(fits.passed, fits.happened).toBe(true);
    expect(fits.figures.status).toBe(200);
    expect(fits.figures.tookMs).toBeGreaterThanOrEqual(1_000);
  });

  it("long-request: a request in flight across the switch that outlives drainTimeout is cut at the deadline", async () => {
    const cut = await drill("long-request", { drainTimeout: "500ms" }, "--long-request", "3s");
    expect(cut.passed, cut.happened).toBe(true);
    expect(cut.figures.status).toBe(503);
    // Cut (503, the drain's answer: on its own it would have answered 200 after 3 s), and not before the
    // drain deadline, 500 ms after the switch. How long after depends on how long the switch itself took
    // (a rollback that starts its colour first): twice a quiet run saw 3.6 s from the send.
    expect(cut.figures.endedAfterSwitchMs).toBeGreaterThanOrEqual(450);
  });

  it("websocket: held across the switch on the old colour until the drain closes it; a new one goes to the new colour", async () => {
    const r = await drill("websocket", { drainTimeout: "1s" });
    expect(r.passed, r.happened).toBe(true);
    expect(r.figures.repliedAfterSwitch).toBe(true);
    expect(r.figures.newColour).not.toBe(r.figures.heldColour);
    // Counted from when the switch was asked for: the drain deadline (1 s after the switch) is never earlier.
    expect(r.figures.closedAfterMs).toBeGreaterThanOrEqual(995);
  });

  for (const dataPlane of ["builtin", "haproxy"] as const)
    it(`daemon-restart (${dataPlane}): kill -9 of the daemon mid-deploy under load: not one request fails; the interrupted deploy is Aborted once`, async () => {
      const r = await drill(
        "daemon-restart",
        { readyTimeout: "20s", router: `  dataPlane: ${dataPlane}` },
        "--rate",
        "200",
      );
      expect(r.passed, r.happened).toBe(true);
      expect(r.figures).toMatchObject({
        failedWhileDown: 0,
        failedAfterUp: 0,
        interruptedRecords: 1,
        interruptedPhase: "Aborted",
      });
      // The drill sent requests while the daemon was down: the 0 above counts something.
      expect(r.figures.sentWhileDown).toBeGreaterThan(100);
      console.log(
        `daemon-restart figures: ${r.figures.failedWhileDown} of ${r.figures.sentWhileDown} requests failed while the daemon was down (200 requests/s); ` +
          `\`cutover up\` returned after ${Math.round(Number(r.figures.upReturnedMs))} ms`,
      );
    });
});
