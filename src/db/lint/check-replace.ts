import type { AlterPolicyStmt, AlterSeqStmt, DefElem, Node } from "libpg-query";
import { names, optionNames, relationName } from "./ast.js";
import type { LintState } from "./lint-state.js";
import type { RawFinding } from "./raw-finding.js";

/**
 * Findings for statements that change in place an object the running version uses: CREATE OR REPLACE
 * (view, function, procedure, aggregate, trigger, rule), ALTER POLICY, ALTER SEQUENCE ... RESTART.
 * Objects this migration made are nobody else's yet, so changing them is fine.
 */
export function checkReplace(node: Node, state: LintState): RawFinding[] {
  if ("ViewStmt" in node && node.ViewStmt.replace) {
    const view = node.ViewStmt.view;
    return state.isNew("view", view?.relname)
      ? []
      : [{ rule: "replace-view", detail: `replaces view ${relationName(view)}` }];
  }
  if ("CreateFunctionStmt" in node && node.CreateFunctionStmt.replace) {
    const statement = node.CreateFunctionStmt;
    const noun = statement.is_procedure ? "procedure" : "function";
    return replacedFunction(noun, names(statement.funcname), state);
  }
  if ("DefineStmt" in node && node.DefineStmt.replace && node.DefineStmt.kind === "OBJECT_AGGREGATE") {
    return replacedFunction("aggregate", names(node.DefineStmt.defnames), state);
  }
  if ("CreateTrigStmt" in node && node.CreateTrigStmt.replace) {
    const { relation, trigname } = node.CreateTrigStmt;
    return state.isNewOnTable("trigger", relation?.relname ?? "?", trigname ?? "?")
      ? []
      : [{ rule: "replace-trigger", detail: `replaces trigger ${trigname} on ${relationName(relation)}` }];
  }
  if ("RuleStmt" in node && node.RuleStmt.replace) {
    const { relation, rulename } = node.RuleStmt;
    return state.isNewOnTable("rule", relation?.relname ?? "?", rulename ?? "?")
      ? []
      : [{ rule: "replace-rule", detail: `replaces rule ${rulename} on ${relationName(relation)}` }];
  }
  if ("AlterPolicyStmt" in node) return checkAlterPolicy(node.AlterPolicyStmt, state);
  if ("AlterSeqStmt" in node) return checkRestart(node.AlterSeqStmt, state);
  return [];
}

function replacedFunction(noun: string, name: readonly string[], state: LintState): RawFinding[] {
  return state.isNew("function", name.at(-1))
    ? []
    : [{ rule: "replace-function", detail: `replaces ${noun} ${name.join(".")}` }];
}

function checkAlterPolicy(statement: AlterPolicyStmt, state: LintState): RawFinding[] {
  const table = statement.table;
  const policy = statement.policy_name ?? "?";
  if (state.isNewOnTable("policy", table?.relname ?? "?", policy)) return [];
  const changed = [
    statement.qual ? "USING" : null,
    statement.with_check ? "WITH CHECK" : null,
    statement.roles ? "TO (its roles)" : null,
  ].filter((part): part is string => part !== null);
  if (changed.length === 0) return [];
  const detail = `changes policy ${policy} on ${relationName(table)}: ${changed.join(", ")}`;
  return [{ rule: "alter-policy", detail }];
}

function checkRestart(statement: AlterSeqStmt, state: LintState): RawFinding[] {
  if (!optionNames(statement.options).includes("restart")) return [];
  if (state.isNew("sequence", statement.sequence?.relname)) return [];
  const restart = (statement.options ?? []).find(
    (option) => "DefElem" in option && option.DefElem.defname === "restart",
  );
  const value = restart && "DefElem" in restart ? restartValue(restart.DefElem) : null;
  const at = value === null ? "" : ` at ${value}`;
  return [{ rule: "restart-sequence", detail: `restarts sequence ${relationName(statement.sequence)}${at}` }];
}

function restartValue(option: DefElem): number | null {
  const arg = option.arg;
  if (!arg) return null;
  if ("Integer" in arg) return arg.Integer.ival ?? 0;
  if ("Float" in arg) return Number(arg.Float.fval ?? 0);
  return null;
}
