import type { DropStmt, Node, ObjectType } from "libpg-query";
import { functionName, names, objectNameParts } from "./ast.js";
import type { LintState, ObjectKind } from "./lint-state.js";
import type { RawFinding } from "./raw-finding.js";
import type { RuleId } from "./rule.js";

/** How a DROP of one kind of object the running version may use is reported. */
interface DroppedKind {
  readonly rule: RuleId;
  readonly kind: ObjectKind;
  /** As the detail names it: "materialized view". */
  readonly noun: string;
  /** Triggers, policies and rules are named "<name> ON <table>". */
  readonly onTable?: true;
}

const DROPPED: Readonly<Partial<Record<ObjectType, DroppedKind>>> = {
  OBJECT_TABLE: { rule: "drop-table", kind: "table", noun: "table" },
  OBJECT_SCHEMA: { rule: "drop-schema", kind: "schema", noun: "schema" },
  OBJECT_VIEW: { rule: "drop-view", kind: "view", noun: "view" },
  OBJECT_MATVIEW: { rule: "drop-view", kind: "view", noun: "materialized view" },
  OBJECT_FUNCTION: { rule: "drop-function", kind: "function", noun: "function" },
  OBJECT_PROCEDURE: { rule: "drop-function", kind: "function", noun: "procedure" },
  OBJECT_ROUTINE: { rule: "drop-function", kind: "function", noun: "routine" },
  OBJECT_AGGREGATE: { rule: "drop-function", kind: "function", noun: "aggregate" },
  OBJECT_TYPE: { rule: "drop-type", kind: "type", noun: "type" },
  OBJECT_DOMAIN: { rule: "drop-type", kind: "type", noun: "domain" },
  OBJECT_SEQUENCE: { rule: "drop-sequence", kind: "sequence", noun: "sequence" },
  OBJECT_TRIGGER: { rule: "drop-trigger", kind: "trigger", noun: "trigger", onTable: true },
  OBJECT_POLICY: { rule: "drop-policy", kind: "policy", noun: "policy", onTable: true },
  OBJECT_RULE: { rule: "drop-rule", kind: "rule", noun: "rule", onTable: true },
};

/**
 * Findings for DROP: one per statement, naming every object of it the running version may use. Objects
 * this migration made (or freed) are nobody else's yet, so dropping them is fine.
 */
export function checkDrop(statement: DropStmt, state: LintState): RawFinding[] {
  const objects = statement.objects ?? [];
  if (statement.removeType === "OBJECT_INDEX") {
    if (statement.concurrent) return [];
    const what = objects.map((object) => objectNameParts(object).join(".")).join(", ");
    return [{ rule: "drop-index-non-concurrently", detail: `drops index ${what}` }];
  }
  const dropped = statement.removeType ? DROPPED[statement.removeType] : undefined;
  if (!dropped) return [];
  const used = objects.filter((object) => !isNew(object, dropped, state));
  if (used.length === 0) return [];
  const shown = used.map((object) => shownName(object, dropped)).join(", ");
  const cascade =
    statement.behavior === "DROP_CASCADE"
      ? `, with CASCADE (which also drops every object that depends on ${used.length > 1 ? "them" : "it"})`
      : "";
  return [{ rule: dropped.rule, detail: `drops ${dropped.noun} ${shown}${cascade}` }];
}

/** A table-scoped object's table and name: ["app", "users", "t"] is t on app.users. */
function onTable(object: Node): { readonly table: string[]; readonly name: string } {
  const parts = objectNameParts(object);
  return { table: parts.slice(0, -1), name: parts.at(-1) ?? "?" };
}

function isNew(object: Node, dropped: DroppedKind, state: LintState): boolean {
  if (dropped.onTable) {
    const { table, name } = onTable(object);
    return state.isNewOnTable(dropped.kind, table.at(-1) ?? "?", name);
  }
  return state.isNew(dropped.kind, objectNameParts(object).at(-1));
}

function shownName(object: Node, dropped: DroppedKind): string {
  if (dropped.onTable) {
    const { table, name } = onTable(object);
    return `${name} on ${table.join(".")}`;
  }
  if ("ObjectWithArgs" in object) return functionName(object.ObjectWithArgs);
  if ("TypeName" in object) return names(object.TypeName.names).join(".");
  return objectNameParts(object).join(".");
}
