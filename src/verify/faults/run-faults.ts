import { epochNow } from "../clock.js";
import { summarise } from "../load-generator.js";
import type { Fault, FaultContext, FaultResult } from "./fault.js";

/** Runs the faults one after another; a fault that throws is reported as failed, and the next one runs. */
export async function runFaults(faults: readonly Fault[], context: FaultContext): Promise<FaultResult[]> {
  const results: FaultResult[] = [];
  for (const fault of faults) {
    context.log(`fault ${fault.name}: injecting`);
    const started = epochNow();
    let result: FaultResult;
    try {
      const verdict = await fault.run(context);
      const summary = summarise(verdict.samples);
      result = {
        fault: fault.name,
        expected: verdict.expected,
        happened: verdict.happened,
        passed: verdict.passed,
        durationMs: epochNow() - started,
        requests: {
          sent: summary.sent,
          failed: summary.failed,
          failuresByKind: summary.failuresByKind,
          maxLatencyMs: summary.maxMs,
        },
        figures: verdict.figures,
      };
    } catch (error) {
      result = {
        fault: fault.name,
        expected: "the fault runs to its end",
        happened: `the drill could not complete it: ${(error as Error).message}`,
        passed: false,
        durationMs: epochNow() - started,
        requests: { sent: 0, failed: 0, failuresByKind: {}, maxLatencyMs: 0 },
        figures: {},
      };
    }
    context.log(`fault ${fault.name}: ${result.passed ? "as expected" : "NOT as expected"}`);
    results.push(result);
  }
  return results;
}
