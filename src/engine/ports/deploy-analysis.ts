import type { Colour } from "../../colour.js";

export const VERDICTS = ["Pass", "Marginal", "Fail", "Inconclusive"] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface AnalysisContext {
  readonly deployId: string;
  readonly version: string;
  /** The colour judged against: the one that served before the deploy. */
  readonly baseline: Colour;
  /** The colour under judgement: the new version. */
  readonly canary: Colour;
  readonly signal: AbortSignal;
}

export interface AnalysisOutcome {
  readonly verdict: Verdict;
  /** One line with the numbers that decided it, for the deploy record and alerts. */
  readonly summary: string;
}

/**
 * What the deploy engine asks of the analysis side. Pre-switch analysis judges the idle colour on mirrored
 * traffic; post-switch analysis watches both colours for the configured window. A Fail after the switch
 * makes the engine switch back at once.
 */
export interface DeployAnalysis {
  preSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null>;
  postSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null>;
}
