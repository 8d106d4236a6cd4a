import { epochNow } from "./clock.js";
import type { DrillStep } from "./drill-sequence.js";
import type { Fault, FaultSettings, FaultTarget } from "./faults/fault.js";
import { runFaults } from "./faults/run-faults.js";
import { LoadGenerator, type LoadSample, summarise } from "./load-generator.js";
import { judgeDrill, type PassCriteria } from "./pass-criteria.js";
import { type DrillRun, runSwitchDrill } from "./switch-drill.js";
import type { DrillSwitch, SwitchDriver } from "./switch-driver.js";
import { durationStats, measureSwitches } from "./switch-timing.js";
import type { LoadSettings, VerifyReport } from "./verify-report.js";

export interface VerifyOptions {
  /** Where the load goes (checked by checkLoadTarget). */
  readonly target: string;
  readonly driver: SwitchDriver;
  /** The sequence; empty to run only the faults. */
  readonly steps: readonly DrillStep[];
  readonly load: LoadSettings;
  readonly warmupMs: number;
  readonly settleMs: number;
  readonly criteria: PassCriteria;
  readonly faults: readonly Fault[];
  /** Needed when there are faults: they act on a local cutover. */
  readonly faultTarget: FaultTarget | null;
  readonly faultSettings: FaultSettings;
  readonly log: (line: string) => void;
  readonly onSwitch?: (done: DrillSwitch, total: number) => void;
}

export interface VerifyOutcome {
  readonly report: VerifyReport;
  /** Every request of the sequence, for --record. */
  readonly samples: readonly LoadSample[];
}

/** The sequence under load, then each fault; judged against the criteria. */
export async function runVerify(o: VerifyOptions): Promise<VerifyOutcome> {
  const startedAt = epochNow();
  const deadline = startedAt + o.load.maxDurationMs;
  let missedTicks = 0;
  const newLoad = (): LoadGenerator => {
    const generator = new LoadGenerator({
      url: o.target,
      connections: o.load.connections,
      path: o.load.path,
      maxDurationMs: Math.max(0, deadline - epochNow()),
      maxRequests: o.load.maxRequests,
      timeoutMs: o.load.timeoutMs,
      connectionMode: o.load.connectionMode,
      ...(o.load.ratePerSecond === null ? {} : { ratePerSecond: o.load.ratePerSecond }),
    });
    return generator;
  };
  let run: DrillRun | null = null;
  if (o.steps.length > 0) {
    const load = newLoad();
    run = await runSwitchDrill({
      load,
      driver: o.driver,
      steps: o.steps,
      warmupMs: o.warmupMs,
      settleMs: o.settleMs,
      deadline,
      ...(o.onSwitch ? { onSwitch: o.onSwitch } : {}),
    });
    missedTicks += load.missed;
  }
  const faults =
    o.faults.length === 0 || o.faultTarget === null
      ? []
      : await runFaults(o.faults, {
          target: o.faultTarget,
          settings: o.faultSettings,
          load: newLoad,
          log: o.log,
        });
  const samples = run?.samples ?? [];
  const summary = summarise(samples);
  const timings = run ? measureSwitches(samples, run.switches, run.endedAt) : [];
  const criteria = run ? judgeDrill(summary, timings, o.criteria, run.stoppedEarly) : [];
  const report: VerifyReport = {
    passed: criteria.every((c) => c.passed) && faults.every((f) => f.passed),
    target: o.target,
    switchedBy: o.driver.description,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: epochNow() - startedAt,
    load: { ...o.load, missedTicks },
    requests: summary,
    switches: {
      planned: run?.planned ?? 0,
      performed: run?.switches.length ?? 0,
      stoppedEarly: run?.stoppedEarly ?? null,
      durations: {
        command: durationStats(timings.map((t) => t.commandMs)),
        toFirstNew: durationStats(timings.map((t) => t.toFirstNewMs)),
        toLastOld: durationStats(timings.map((t) => t.toLastOldMs)),
      },
      list: timings,
    },
    criteria,
    faults,
  };
  return { report, samples };
}
