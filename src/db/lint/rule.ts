import type { Phase } from "../migration.js";

/** Every rule's stable id. Ids never change meaning; new rules get new ids. */
export const RULE_IDS = [
  "rename-column",
  "rename-table",
  "drop-column",
  "drop-table",
  "drop-schema",
  "rename-schema",
  "drop-database",
  "drop-view",
  "replace-view",
  "rename-view",
  "drop-function",
  "replace-function",
  "rename-function",
  "drop-type",
  "rename-type",
  "rename-enum-value",
  "drop-sequence",
  "rename-sequence",
  "restart-sequence",
  "drop-trigger",
  "replace-trigger",
  "drop-policy",
  "alter-policy",
  "drop-rule",
  "replace-rule",
  "add-column-not-null-without-default",
  "volatile-default",
  "add-stored-generated-column",
  "set-not-null",
  "drop-not-null",
  "alter-column-type",
  "create-index-non-concurrently",
  "drop-index-non-concurrently",
  "reindex-non-concurrently",
  "concurrently-in-transaction",
  "add-unique-constraint",
  "add-primary-key-constraint",
  "add-check-without-not-valid",
  "add-foreign-key-without-not-valid",
  "drop-constraint",
  "require-lock-timeout",
  "truncate-cascade",
  "enum-add-value-in-transaction",
  "cluster",
  "vacuum-full",
  "transaction-control",
  "syntax-error",
  "invalid-suppression",
  "unused-suppression",
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SEVERITIES = ["error", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Rule {
  readonly id: RuleId;
  /** Why it breaks the version still running, or blocks traffic. */
  readonly why: string;
  /** What to write instead. */
  readonly instead: string;
  /** Severity in each phase; null: fine in that phase. */
  readonly severity: Readonly<Record<Phase, Severity | null>>;
  /** The squawk rule that catches the same pattern, for people who know squawk. */
  readonly squawk?: string;
}

export const always = { expand: "error", contract: "error" } as const;
export const expandOnly = { expand: "error", contract: null } as const;
/** Breaks the old version in expand; in contract it breaks the new one if the new one uses the old name or value. */
export const contractWarns = { expand: "error", contract: "warning" } as const;
