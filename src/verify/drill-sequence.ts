import { parseDuration } from "../duration.js";
import { CutoverError } from "../errors.js";

/** One step of a drill: move traffic to the other colour, roll back, deploy a version, or let load run. */
export type DrillStep =
  | { readonly kind: "switch" }
  | { readonly kind: "rollback" }
  | { readonly kind: "deploy"; readonly version: string }
  | { readonly kind: "wait"; readonly ms: number };

export const SEQUENCE_HELP =
  "switch, rollback, switches:<n>, deploy:<version>, wait:<duration>, separated by commas";

const MAX_STEPS = 100_000;

export class BadSequenceError extends CutoverError {
  constructor(item: string, why: string) {
    super("BAD_SEQUENCE", `--sequence: "${item}" ${why}; expected ${SEQUENCE_HELP}`);
    this.name = "BadSequenceError";
  }
}

/** "switch,rollback,switches:20,deploy:2.0.0,wait:1s" -> the steps, with switches:N unrolled. */
export function parseSequence(text: string): DrillStep[] {
  const steps: DrillStep[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const [name, argument] = splitOnce(item);
    steps.push(...stepsFor(item, name, argument));
    if (steps.length > MAX_STEPS) throw new BadSequenceError(item, `makes more than ${MAX_STEPS} steps`);
  }
  if (steps.length === 0) throw new BadSequenceError(text, "has no steps");
  return steps;
}

function stepsFor(item: string, name: string, argument: string | undefined): DrillStep[] {
  if ((name === "switch" || name === "rollback") && argument === undefined) return [{ kind: name }];
  if (name === "switches") {
    const n = Number(argument);
    if (!Number.isInteger(n) || n < 1) throw new BadSequenceError(item, "needs a whole number >= 1");
    return Array.from({ length: n }, () => ({ kind: "switch" }) as const);
  }
  if (name === "deploy") {
    if (!argument || !/^[\w.+-]{1,128}$/.test(argument)) {
      throw new BadSequenceError(item, "needs a version (letters, digits, . _ + -)");
    }
    return [{ kind: "deploy", version: argument }];
  }
  if (name === "wait") {
    const ms = argument === undefined ? undefined : parseDuration(argument);
    if (ms === undefined) throw new BadSequenceError(item, 'needs a duration such as "500ms" or "2s"');
    return [{ kind: "wait", ms }];
  }
  throw new BadSequenceError(item, "is not a step");
}

function splitOnce(item: string): [string, string | undefined] {
  const colon = item.indexOf(":");
  return colon === -1 ? [item, undefined] : [item.slice(0, colon), item.slice(colon + 1)];
}

export function describeStep(step: DrillStep): string {
  switch (step.kind) {
    case "deploy":
      return `deploy ${step.version}`;
    case "wait":
      return `wait ${step.ms}ms`;
    default:
      return step.kind;
  }
}
