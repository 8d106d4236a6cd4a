/** What one switch, rollback or deploy of the drill did, as the side that performed it saw it. */
export interface SwitchOutcome {
  /** Who served before: a colour, or whatever identifies the serving side (a version). */
  readonly from: string | null;
  /**
   * Who must answer once the step is complete: the new colour, or `from` when traffic was meant to stay
   * (an aborted deploy). null: not known to the driver (a plain switch command); the drill takes the first
   * side other than `from` that answers.
   */
  readonly expected: string | null;
  /** The step did what it was asked (the deploy or rollback ended Healthy, the command exited 0). */
  readonly ok: boolean;
  /** One line: "r12 Healthy: blue -> green", "exit 0". */
  readonly detail: string;
  readonly deployId: string | null;
}

/** Moves traffic for the drill: the admin API of a running cutover, or any shell command. */
export interface SwitchDriver {
  /** Where traffic is switched, for the report. */
  readonly description: string;
  /** Traffic to the other side: `cutover rollback` to the warm other colour (a deploy, if it never ran). */
  switchOver(kind: "switch" | "rollback"): Promise<SwitchOutcome>;
  /** A full deploy of `version`. */
  deploy(version: string): Promise<SwitchOutcome>;
}

/** One step of a switch drill as it went. */
export interface DrillSwitch {
  readonly index: number;
  readonly step: string;
  /** epochNow() when the command was sent, and when it was known to be complete. */
  readonly commandAt: number;
  readonly completedAt: number;
  readonly outcome: SwitchOutcome;
}
