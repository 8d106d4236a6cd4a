/**
 * The steps that decide whether a deploy may go on: the smoke checks, the analyses and the promotion, and
 * the pause for a person that an Inconclusive verdict or `autoPromote: false` asks for.
 */
import { CutoverError } from "../errors.js";
import type { EngineOptions } from "./engine-options.js";
import { type DeployRecord, enterPause, leavePause } from "./lifecycle.js";
import { abortable, type Operation, type StepOutcome, skip } from "./operation.js";
import type { AnalysisOutcome } from "./ports/deploy-analysis.js";
import { runSmokeChecks } from "./smoke-checks.js";

export class AnalysisFailedError extends CutoverError {
  constructor(when: string, outcome: AnalysisOutcome) {
    super("ANALYSIS_FAILED", `${when} analysis: ${outcome.verdict}: ${outcome.summary}`);
    this.name = "AnalysisFailedError";
  }
}

/** What a gate needs of the engine: its options, and a way to record a change of the deploy. */
export interface GateContext {
  readonly o: EngineOptions;
  /** Records a change of `record`: written, and told to listeners. */
  readonly changed: (record: DeployRecord) => void;
}

export async function smoke(o: EngineOptions, op: Operation): Promise<StepOutcome> {
  if (o.smoke.length === 0) return skip("none configured");
  const results = await runSmokeChecks(o.smoke, o.preview, op.record.version, op.controller.signal);
  op.controller.signal.throwIfAborted();
  const failed = results.find((r) => !r.passed);
  if (failed) throw new CutoverError("SMOKE_FAILED", `smoke check "${failed.name}" failed: ${failed.detail}`);
  return `${results.length} passed`;
}

/** Runs one analysis: Fail throws, Inconclusive pauses for a person, Pass and Marginal go on. */
export async function analyse(
  gate: GateContext,
  op: Operation,
  when: "pre-switch" | "post-switch",
): Promise<StepOutcome> {
  const analysis = gate.o.analysis;
  if (!analysis) return skip("no analysis configured");
  const { record, controller } = op;
  const context = {
    deployId: record.id,
    version: record.version,
    baseline: record.from.colour,
    canary: record.to.colour,
    signal: controller.signal,
  };
  const running = when === "pre-switch" ? analysis.preSwitch(context) : analysis.postSwitch(context);
  const outcome = await abortable(running, controller.signal);
  if (outcome === null) return skip(`no ${when} analysis configured`);
  const line = `${outcome.verdict}: ${outcome.summary}`;
  if (outcome.verdict === "Fail") throw new AnalysisFailedError(when, outcome);
  if (outcome.verdict === "Inconclusive") {
    const next = when === "pre-switch" ? "switch" : "keep the new version";
    await pause(
      gate,
      op,
      `${when} analysis was inconclusive (${outcome.summary}); \`cutover promote\` to ${next}, \`cutover abort\` to ${when === "pre-switch" ? "stop" : "roll back"}`,
    );
    return `${line}; accepted by \`cutover promote\``;
  }
  return line;
}

export async function promotion(gate: GateContext, op: Operation): Promise<string> {
  const mode = gate.o.autoPromote;
  if (mode.mode === "on") return "automatic";
  if (mode.mode === "off") {
    return pause(gate, op, "waiting for `cutover promote` (or `cutover abort`)");
  }
  const at = Date.now() + mode.delayMs;
  const reason = `switches by itself at ${new Date(at).toISOString()}; \`cutover promote\` switches now, \`cutover abort\` stops`;
  return pause(gate, op, reason, mode.delayMs);
}

/** Phase Paused until `cutover promote` (or the delay, when given); `cutover abort` rejects. */
export async function pause(
  gate: GateContext,
  op: Operation,
  reason: string,
  delayMs?: number,
): Promise<string> {
  const signal = op.controller.signal;
  enterPause(op.record, reason, delayMs === undefined ? undefined : new Date(Date.now() + delayMs));
  gate.changed(op.record);
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer =
        delayMs === undefined ? undefined : setTimeout(() => resolve("automatic after the delay"), delayMs);
      op.promote = (by) => {
        clearTimeout(timer);
        resolve(`promoted by \`cutover promote\`${by ? ` from ${by}` : ""}`);
      };
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
  } finally {
    op.promote = undefined;
    // Promoted, or aborted: either way it no longer waits, and must never be seen as waiting for a person
    // while its holder closes it (another run could take it over).
    leavePause(op.record);
  }
}
