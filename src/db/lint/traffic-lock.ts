import type { Node } from "libpg-query";
import { objectNameParts, optionNames, relationName } from "./ast.js";
import type { LintState } from "./lint-state.js";

/** ALTER TABLE subcommands that take less than a write-blocking lock. */
const LIGHT_ALTER = new Set([
  "AT_ValidateConstraint",
  "AT_SetStatistics",
  "AT_SetOptions",
  "AT_ResetOptions",
]);

/**
 * The table a statement locks so that the service's queries queue behind it while it waits for the lock
 * (ACCESS EXCLUSIVE, or a lock that blocks writes), or null when it takes no such lock on a table in use.
 */
export function trafficLockedTable(node: Node, state: LintState): string | null {
  const table = lockedTable(node);
  if (table === null) return null;
  return state.isNewTable(table.split(".").at(-1)) ? null : table;
}

function lockedTable(node: Node): string | null {
  if ("AlterTableStmt" in node) {
    const statement = node.AlterTableStmt;
    const commands = (statement.cmds ?? []).flatMap((c) => ("AlterTableCmd" in c ? [c.AlterTableCmd] : []));
    const light = commands.every((c) => LIGHT_ALTER.has(c.subtype ?? "") || isConcurrentDetach(c.def));
    return light ? null : relationName(statement.relation);
  }
  if ("RenameStmt" in node) return node.RenameStmt.relation ? relationName(node.RenameStmt.relation) : null;
  if ("IndexStmt" in node) return node.IndexStmt.concurrent ? null : relationName(node.IndexStmt.relation);
  if ("DropStmt" in node) return dropLock(node.DropStmt);
  if ("TruncateStmt" in node) return firstRelation(node.TruncateStmt.relations);
  if ("ClusterStmt" in node) return relationName(node.ClusterStmt.relation);
  if ("VacuumStmt" in node) {
    const full = optionNames(node.VacuumStmt.options).includes("full");
    const relation = node.VacuumStmt.rels?.[0];
    return full && relation && "VacuumRelation" in relation
      ? relationName(relation.VacuumRelation.relation)
      : null;
  }
  if ("ReindexStmt" in node) {
    const concurrent = optionNames(node.ReindexStmt.params).includes("concurrently");
    return concurrent ? null : relationName(node.ReindexStmt.relation);
  }
  if ("LockStmt" in node) return firstRelation(node.LockStmt.relations);
  if ("CreateTrigStmt" in node) return relationName(node.CreateTrigStmt.relation);
  if ("RuleStmt" in node) return relationName(node.RuleStmt.relation);
  if ("CreatePolicyStmt" in node) return relationName(node.CreatePolicyStmt.table);
  if ("AlterPolicyStmt" in node) return relationName(node.AlterPolicyStmt.table);
  if ("RefreshMatViewStmt" in node) {
    return node.RefreshMatViewStmt.concurrent ? null : relationName(node.RefreshMatViewStmt.relation);
  }
  return null;
}

/** DROP TRIGGER, POLICY and RULE take ACCESS EXCLUSIVE on their table ("users" of [users, t]). */
const ON_TABLE = new Set(["OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"]);

function dropLock(statement: { removeType?: string; concurrent?: boolean; objects?: Node[] }): string | null {
  if (statement.concurrent) return null;
  const type = statement.removeType ?? "";
  if (type !== "OBJECT_TABLE" && type !== "OBJECT_INDEX" && !ON_TABLE.has(type)) return null;
  const parts = objectNameParts(statement.objects?.[0]);
  const name = ON_TABLE.has(type) ? parts.slice(0, -1) : parts;
  return name.length > 0 ? name.join(".") : null;
}

function firstRelation(relations: readonly Node[] | undefined): string | null {
  const first = relations?.[0];
  return first && "RangeVar" in first ? relationName(first.RangeVar) : null;
}

function isConcurrentDetach(definition: Node | undefined): boolean {
  return (
    definition !== undefined && "PartitionCmd" in definition && definition.PartitionCmd.concurrent === true
  );
}
