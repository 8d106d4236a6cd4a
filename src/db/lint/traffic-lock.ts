import type { Node } from "libpg-query";
import { optionNames, relationName } from "./ast.js";
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
  if ("RefreshMatViewStmt" in node) {
    return node.RefreshMatViewStmt.concurrent ? null : relationName(node.RefreshMatViewStmt.relation);
  }
  return null;
}

function dropLock(statement: { removeType?: string; concurrent?: boolean; objects?: Node[] }): string | null {
  if (statement.concurrent) return null;
  if (statement.removeType !== "OBJECT_TABLE" && statement.removeType !== "OBJECT_INDEX") return null;
  const first = statement.objects?.[0];
  if (!first || !("List" in first)) return null;
  return (first.List.items ?? [])
    .flatMap((item) => ("String" in item ? [item.String.sval ?? ""] : []))
    .join(".");
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
