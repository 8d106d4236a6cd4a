import type { Node } from "libpg-query";
import { optionNames } from "../lint/ast.js";
import type { Statement } from "../pg-parser.js";

/** PostgreSQL 12 lets ALTER TYPE ... ADD VALUE run inside a transaction block. */
const ENUM_IN_TRANSACTION_SINCE = 120000;

/** Statements that run in one transaction, or one statement that must run alone, outside any. */
export interface Segment {
  readonly transactional: boolean;
  readonly statements: readonly Statement[];
}

/** True for statements PostgreSQL refuses inside a transaction block. */
export function mustRunAlone(node: Node, serverVersionNum: number): boolean {
  if ("IndexStmt" in node) return node.IndexStmt.concurrent === true;
  if ("DropStmt" in node) return node.DropStmt.concurrent === true;
  if ("ReindexStmt" in node) return optionNames(node.ReindexStmt.params).includes("concurrently");
  if ("VacuumStmt" in node) return node.VacuumStmt.is_vacuumcmd === true;
  if ("AlterTableStmt" in node) {
    return (node.AlterTableStmt.cmds ?? []).some(
      (c) =>
        "AlterTableCmd" in c && c.AlterTableCmd.def !== undefined && isConcurrentDetach(c.AlterTableCmd.def),
    );
  }
  if ("AlterEnumStmt" in node)
    return !node.AlterEnumStmt.oldVal && serverVersionNum < ENUM_IN_TRANSACTION_SINCE;
  return (
    "CreatedbStmt" in node ||
    "DropdbStmt" in node ||
    "AlterSystemStmt" in node ||
    "CreateTableSpaceStmt" in node ||
    "DropTableSpaceStmt" in node
  );
}

/** Splits a migration: runs of ordinary statements share a transaction; each must-run-alone statement is alone. */
export function transactionSegments(statements: readonly Statement[], serverVersionNum: number): Segment[] {
  const segments: Segment[] = [];
  let batch: Statement[] = [];
  for (const statement of statements) {
    if (!mustRunAlone(statement.node, serverVersionNum)) {
      batch.push(statement);
      continue;
    }
    if (batch.length > 0) segments.push({ transactional: true, statements: batch });
    batch = [];
    segments.push({ transactional: false, statements: [statement] });
  }
  if (batch.length > 0 || segments.length === 0) segments.push({ transactional: true, statements: batch });
  return segments;
}

function isConcurrentDetach(definition: Node): boolean {
  return "PartitionCmd" in definition && definition.PartitionCmd.concurrent === true;
}
