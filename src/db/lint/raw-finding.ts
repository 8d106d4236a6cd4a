import type { RuleId, Severity } from "./rule.js";

/** What a check reports about one statement, before phase, suppression and position are added. */
export interface RawFinding {
  readonly rule: RuleId;
  /** Specific words for this statement, e.g. the table and column. */
  readonly detail: string;
  /** Overrides the rule's severity for this finding (e.g. a default cutover cannot prove volatile). */
  readonly severity?: Severity;
}
