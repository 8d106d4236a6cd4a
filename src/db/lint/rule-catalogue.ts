import type { Rule, RuleId } from "./rule.js";
import { LOCKING_RULES } from "./rules-locking.js";
import { RUNNING_VERSION_RULES } from "./rules-running-version.js";

/** Every rule, found by id. */
const RULES: readonly Rule[] = [...RUNNING_VERSION_RULES, ...LOCKING_RULES];

const BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.id, rule]));

export function ruleById(id: RuleId): Rule {
  const rule = BY_ID.get(id);
  if (!rule) throw new Error(`no lint rule "${id}"`);
  return rule;
}

export function isRuleId(id: string): id is RuleId {
  return BY_ID.has(id);
}

export function allRules(): readonly Rule[] {
  return RULES;
}
