import { setTimeout as sleep } from "node:timers/promises";
import { epochNow } from "./clock.js";
import { type DrillStep, describeStep } from "./drill-sequence.js";
import type { LoadGenerator, LoadSample } from "./load-generator.js";
import type { DrillSwitch, SwitchDriver, SwitchOutcome } from "./switch-driver.js";
import { sideOf } from "./switch-timing.js";

/** One switch, rollback or deploy the drill performed, with the drill's own clock around it. */
export interface DrillOptions {
  /** Not started yet: the drill starts it, and stops it at the end. */
  readonly load: LoadGenerator;
  readonly driver: SwitchDriver;
  readonly steps: readonly DrillStep[];
  /** Load before the first step, and after the last. */
  readonly warmupMs: number;
  readonly settleMs: number;
  /** epochNow() after which no further step starts (the drill's time bound). */
  readonly deadline: number;
  readonly onSwitch?: (done: DrillSwitch, total: number) => void;
}

export interface DrillRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly samples: readonly LoadSample[];
  readonly switches: readonly DrillSwitch[];
  /** Steps planned, and why the drill stopped before the last one, if it did. */
  readonly planned: number;
  readonly stoppedEarly: string | null;
}

/** Runs load while the driver performs the steps, one after another; records when each began and ended. */
export async function runSwitchDrill(options: DrillOptions): Promise<DrillRun> {
  const { load, driver, steps } = options;
  const startedAt = epochNow();
  const switches: DrillSwitch[] = [];
  const total = steps.filter((s) => s.kind !== "wait").length;
  let stoppedEarly: string | null = null;
  load.start();
  try {
    await sleep(options.warmupMs);
    for (const step of steps) {
      if (epochNow() > options.deadline) {
        stoppedEarly = `the time bound was reached after ${switches.length} of ${total} switches`;
        break;
      }
      if (step.kind === "wait") {
        await sleep(step.ms);
        continue;
      }
      const done = await perform(driver, step, switches.length, servingSide(load.samples));
      switches.push(done);
      options.onSwitch?.(done, total);
      if (!done.outcome.ok && done.outcome.deployId === null && done.outcome.detail.startsWith("error")) {
        stoppedEarly = `${done.step} failed: ${done.outcome.detail}`;
        break;
      }
    }
    await sleep(options.settleMs);
  } finally {
    await load.stop();
  }
  return { startedAt, endedAt: epochNow(), samples: load.samples, switches, planned: total, stoppedEarly };
}

/**
 * Who serves now, as the answers so far say: the side of the answer to the request sent last, not of the last
 * answer to arrive (a slow request the old colour finished during its drain can arrive after newer ones).
 * Samples are in the order their answers arrived, so the search stops at the first one that ended before the
 * best so far was sent: nothing that arrived earlier can have been sent later.
 */
export function servingSide(samples: readonly LoadSample[]): string | null {
  let best: LoadSample | undefined;
  for (let i = samples.length - 1; i >= 0; i--) {
    const sample = samples[i] as LoadSample;
    if (best !== undefined && sample.endedAt < best.sentAt) break;
    if (sample.status > 0 && sideOf(sample) !== null && (best === undefined || sample.sentAt > best.sentAt))
      best = sample;
  }
  return best === undefined ? null : sideOf(best);
}

async function perform(
  driver: SwitchDriver,
  step: DrillStep,
  index: number,
  serving: string | null,
): Promise<DrillSwitch> {
  const commandAt = epochNow();
  let outcome: SwitchOutcome;
  try {
    outcome =
      step.kind === "deploy"
        ? await driver.deploy(step.version)
        : await driver.switchOver(step.kind === "rollback" ? "rollback" : "switch");
  } catch (error) {
    outcome = {
      from: null,
      expected: null,
      ok: false,
      detail: `error: ${(error as Error).message}`,
      deployId: null,
    };
  }
  const from = outcome.from ?? serving;
  return {
    index,
    step: describeStep(step),
    commandAt,
    completedAt: epochNow(),
    outcome: { ...outcome, from },
  };
}
