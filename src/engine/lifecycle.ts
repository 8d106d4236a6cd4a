import type { Colour } from "../colour.js";

/*
 * The deploy lifecycle in one file: a deploy's record, its phases and the moves between them, its steps in
 * order, and every rule about who may take a deploy over, ask its holder, promote, abort or stop following
 * it, what a failure does to traffic, and how a deploy a dead process left behind is closed. All pure
 * functions of the record: the engine, the state stores, the admin server and the CLI call them.
 */

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

/**
 * The steps of a deploy, in order: the one place the order is written (the engine runs them from this list,
 * and a record is made from it). A rollback uses the same record shape with its own steps.
 */
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
export type DeployStep = (typeof DEPLOY_STEPS)[number];
export type RollbackStep = (typeof ROLLBACK_STEPS)[number];
export type StepName = DeployStep | RollbackStep;

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

/* ------------------------------------------------------------------------------------------------------
 * The rules. Every decision about who may act on a deploy is made here, as a pure function of the record
 * (and of what the caller knows about the lock); the engine, the stores, the admin server and the CLI ask
 * these and decide nothing themselves. The model-based test (test/reliability/engine-model.test.ts) holds
 * the engine to them.
 * ---------------------------------------------------------------------------------------------------- */

/** What one process may ask of a deploy another one (or a person) holds. */
export type HolderAction = "promote" | "abort";

/** A deploy that has not ended: it is the lock on the service. */
export function isUnfinished(record: DeployRecord | null | undefined): record is DeployRecord {
  return record != null && !isFinal(record.phase);
}

/** Paused until a person runs `cutover promote` or `cutover abort` (a pause with a delay goes on by itself). */
export function waitsForPerson(record: DeployRecord): boolean {
  return record.phase === "Paused" && record.resumesAt === undefined;
}

/**
 * When whoever follows a deploy (`cutover deploy`, the admin API's stream, `cutover status --watch`) stops:
 * once it has ended, or once it waits for a person. A pause with a delay ends by itself: keep following.
 */
export function followEnds(record: DeployRecord): boolean {
  return isFinal(record.phase) || waitsForPerson(record);
}

/**
 * Where `cutover promote` or `cutover abort` goes, for the process that runs it: to the operation this process
 * runs itself ("here"), to a deploy another process recorded, which this one must take over first
 * ("take-over"), or nowhere (refused with the code given).
 *   promote: only a paused deploy;  abort: any unfinished one.
 */
export type Route =
  | "here"
  | "take-over"
  | { readonly refused: "NOT_PAUSED" | "NO_DEPLOY"; readonly message: string };

export function route(
  action: HolderAction,
  runningHere: DeployRecord | null,
  recorded: DeployRecord | null,
): Route {
  if (action === "promote") {
    if (runningHere) return runningHere.phase === "Paused" ? "here" : nothingTo(action, runningHere);
    return recorded?.phase === "Paused" ? "take-over" : nothingTo(action, recorded);
  }
  if (runningHere) return "here";
  if (isUnfinished(recorded)) return "take-over";
  return {
    refused: "NO_DEPLOY",
    message: "no deploy is in progress; to return to the previous version run `cutover rollback`",
  };
}

function nothingTo(action: HolderAction, record: DeployRecord | null): Route {
  const what = record ? `deploy ${record.id} is ${record.phase}` : "no deploy is in progress";
  return {
    refused: "NOT_PAUSED",
    message: `${what}; there is no paused deploy to ${action} (see \`cutover status\`)`,
  };
}

/**
 * Whether the deploy `id`, as the shared state holds it, may move to a process that did not start it:
 *   - "paused": it waits for a person; anyone may take it over to promote or abort it;
 *   - "abandoned": it runs (or waits out a delay) but its holder stopped renewing the lock: only to close it;
 *   - "held": its holder lives: ask that one instead (or wait);
 *   - "gone": it is no longer in progress (ended, or another deploy is recorded).
 */
export type TakeOver = "paused" | "abandoned" | "held" | "gone";

export function takeOverRule(
  recorded: DeployRecord | null | undefined,
  id: string,
  holderAlive: boolean,
): TakeOver {
  if (!isUnfinished(recorded) || recorded.id !== id) return "gone";
  if (waitsForPerson(recorded)) return "paused";
  return holderAlive ? "held" : "abandoned";
}

/**
 * Whether a process may ask the live holder of deploy `id` to `action` it: only while it is in progress
 * (and, for promote, paused); an abort already asked is not replaced by a promote. `pending` is the request
 * not yet taken, if any.
 */
export type AskRule = "ask" | "nothing-to-do" | "abort-pending";

export function askRule(
  recorded: DeployRecord | null | undefined,
  id: string,
  action: HolderAction,
  pending: { readonly deploy: string; readonly action: HolderAction } | null,
): AskRule {
  if (!isUnfinished(recorded) || recorded.id !== id) return "nothing-to-do";
  if (action === "promote" && recorded.phase !== "Paused") return "nothing-to-do";
  if (pending?.deploy === id && pending.action === "abort" && action === "promote") return "abort-pending";
  return "ask";
}

/**
 * Whether the old colour may be scaled down now, as `state` has it: not while it is live (a rollback made
 * it live again), nor while a deploy in progress targets it (a new deploy, maybe another process's).
 */
export function mayScaleDown(
  colour: Colour,
  state: { readonly active: Colour; readonly current: DeployRecord | null },
): boolean {
  if (colour === state.active) return false;
  return !(isUnfinished(state.current) && state.current.to.colour === colour);
}

/** Pauses `record` for a person, or until `resumesAt` when the pause has a delay. */
export function enterPause(record: DeployRecord, reason: string, resumesAt?: Date): void {
  setPhase(record, "Paused", reason);
  if (resumesAt) record.resumesAt = resumesAt.toISOString();
}

/** A pause ends (promoted, or its delay is over): the deploy goes on from the step that paused. */
export function leavePause(record: DeployRecord, how?: string): void {
  if (how !== undefined) {
    const paused = runningStep(record);
    if (paused) {
      paused.state = "succeeded";
      paused.detail = how;
    }
  }
  delete record.resumesAt;
  setPhase(record, "Progressing");
  delete record.reason;
}

/**
 * What a failed (or aborted) deploy does about traffic:
 *   - "hands-off": another process took it over; that one decides, this one touches nothing;
 *   - "switch-back": traffic had moved (or its process died in the switch with the selector already moved):
 *     it goes back to the old colour at once;
 *   - "stay": traffic never moved; the new colour is stopped.
 */
export type FailureOutcome = "hands-off" | "switch-back" | "stay";

export function failureOutcome(record: DeployRecord, lockLost: boolean, active: Colour): FailureOutcome {
  if (lockLost) return "hands-off";
  const switching = record.steps.some((s) => s.name === "switch" && s.state === "running");
  if (record.switchedAt || (switching && active === record.to.colour)) return "switch-back";
  return "stay";
}

/** Closes the steps of a deploy that ended early: the running one failed with `reason`, the rest skipped. */
export function closeSteps(record: DeployRecord, reason: string): void {
  for (const step of record.steps) {
    if (step.state === "pending") step.state = "skipped";
    if (step.state === "running") {
      step.state = "failed";
      step.detail = reason;
    }
  }
}

/**
 * Crash recovery: a deploy the state still holds as over that the history does not have. Its process wrote
 * the ending, then died before the history write (the history is written before the state drops the deploy):
 * the ending goes to the history before anything replaces it.
 */
export function unrecordedEnding(
  current: DeployRecord | null,
  history: readonly DeployRecord[],
): DeployRecord | null {
  if (!current || !isFinal(current.phase)) return null;
  return history.some((r) => r.id === current.id) ? null : current;
}

/**
 * Crash recovery: a deploy the state still holds when the daemon starts was running when its process died.
 * It is closed as Aborted (unless it had ended), saying where traffic is; the daemon then brings that colour up.
 */
export function closeInterrupted(record: DeployRecord, trafficOn: string): void {
  const step = runningStep(record);
  closeSteps(record, "the cutover daemon stopped during this step");
  if (!isFinal(record.phase)) {
    setPhase(
      record,
      "Aborted",
      `the cutover daemon stopped during ${step?.name ?? "the deploy"}; traffic is on ${trafficOn}`,
    );
  }
}
