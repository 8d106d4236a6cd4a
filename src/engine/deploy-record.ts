import type { Colour } from "../colour.js";

/** Phases of one deploy, as in Argo Rollouts. Healthy and Aborted are final. */
export const PHASES = ["Progressing", "Paused", "Healthy", "Aborted"] as const;
export type Phase = (typeof PHASES)[number];

/** The only moves a deploy may make; anything else is a bug and throws. */
export const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  Progressing: ["Paused", "Healthy", "Aborted"],
  Paused: ["Progressing", "Aborted"],
  Healthy: [],
  Aborted: [],
};

export const FINAL_PHASES: readonly Phase[] = ["Healthy", "Aborted"];

export function isFinal(phase: Phase): boolean {
  return FINAL_PHASES.includes(phase);
}

/** The steps of a deploy, in order. A rollback uses the same record shape with its own steps. */
export const DEPLOY_STEPS = [
  "migrate-expand",
  "start-idle",
  "wait-healthy",
  "smoke-checks",
  "pre-analysis",
  "promotion",
  "switch",
  "post-analysis",
] as const;
export const ROLLBACK_STEPS = ["start-previous", "wait-healthy", "switch"] as const;
export type StepName = (typeof DEPLOY_STEPS)[number] | (typeof ROLLBACK_STEPS)[number];

export const STEP_STATES = ["pending", "running", "succeeded", "failed", "skipped"] as const;
export type StepState = (typeof STEP_STATES)[number];

export interface StepRecord {
  readonly name: StepName;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  detail?: string;
}

export interface ColourVersion {
  readonly colour: Colour;
  readonly version: string | null;
}

/** One deploy or rollback, as persisted in state.json while it runs and in history.ndjson once final. */
export interface DeployRecord {
  readonly id: string;
  readonly kind: "deploy" | "rollback";
  readonly version: string;
  readonly from: ColourVersion;
  readonly to: ColourVersion;
  phase: Phase;
  readonly steps: StepRecord[];
  readonly startedAt: string;
  endedAt?: string;
  /** Why it was aborted, or why it is paused. */
  reason?: string;
  /** While paused with a delay (autoPromote: a duration): when it goes on by itself, ISO time. */
  resumesAt?: string;
  /** The version the target colour had before (it gets it back in the state when the deploy aborts). */
  targetBefore?: string | null;
  /** When traffic moved, ISO time, if it did. */
  switchedAt?: string;
  /** When traffic moved back after a failure after the switch, ISO time. */
  rolledBackAt?: string;
}

export function newRecord(
  id: string,
  kind: DeployRecord["kind"],
  version: string,
  from: ColourVersion,
  to: ColourVersion,
): DeployRecord {
  const names = kind === "deploy" ? DEPLOY_STEPS : ROLLBACK_STEPS;
  return {
    id,
    kind,
    version,
    from,
    to,
    phase: "Progressing",
    steps: names.map((name) => ({ name, state: "pending" })),
    startedAt: new Date().toISOString(),
  };
}

export function setPhase(record: DeployRecord, next: Phase, reason?: string): void {
  if (record.phase === next) return;
  if (!TRANSITIONS[record.phase].includes(next)) {
    throw new Error(`deploy ${record.id}: illegal phase change ${record.phase} -> ${next}`);
  }
  record.phase = next;
  if (reason !== undefined) record.reason = reason;
  if (isFinal(next)) record.endedAt = new Date().toISOString();
}

export function findStep(record: DeployRecord, name: StepName): StepRecord {
  const step = record.steps.find((s) => s.name === name);
  if (!step) throw new Error(`deploy ${record.id} has no step ${name}`);
  return step;
}

export function runningStep(record: DeployRecord): StepRecord | undefined {
  return record.steps.find((s) => s.state === "running");
}
