import type { FaultResult } from "./faults/fault.js";
import type { ConnectionMode, LoadSummary } from "./load-generator.js";
import type { CriterionResult } from "./pass-criteria.js";
import type { DurationStats, SwitchTiming } from "./switch-timing.js";

export interface LoadSettings {
  readonly connections: number;
  /** Fixed rate (requests a second), or null for fixed concurrency. */
  readonly ratePerSecond: number | null;
  readonly connectionMode: ConnectionMode;
  readonly path: string;
  readonly timeoutMs: number;
  readonly maxDurationMs: number;
  readonly maxRequests: number;
}

/** Everything `cutover verify` found, as printed with --json. */
export interface VerifyReport {
  readonly passed: boolean;
  readonly target: string;
  readonly switchedBy: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly load: LoadSettings & { readonly missedTicks: number };
  /** The requests sent during the sequence (faults count their own). */
  readonly requests: LoadSummary;
  readonly switches: {
    readonly planned: number;
    readonly performed: number;
    readonly stoppedEarly: string | null;
    /** From the command to: its completion, the first answer from the new colour, the last from the old one. */
    readonly durations: {
      readonly command: DurationStats;
      readonly toFirstNew: DurationStats;
      readonly toLastOld: DurationStats;
    };
    readonly list: readonly SwitchTiming[];
  };
  readonly criteria: readonly CriterionResult[];
  readonly faults: readonly FaultResult[];
}
