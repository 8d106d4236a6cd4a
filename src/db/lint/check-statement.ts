import type { Node } from "libpg-query";
import { isServedByViews, renameOf } from "../rename-of.js";
import { constantValue, names, optionNames, relationName } from "./ast.js";
import { checkAlterTable } from "./check-alter-table.js";
import type { LintState } from "./lint-state.js";
import type { RawFinding } from "./raw-finding.js";
import { trafficLockedTable } from "./traffic-lock.js";

/** PostgreSQL 12 lets ALTER TYPE ... ADD VALUE run inside a transaction block. */
const ENUM_IN_TRANSACTION_SINCE = 120000;

/** The findings for one statement; then updates `state` with what the statement changes. */
export function checkStatement(node: Node, state: LintState): RawFinding[] {
  const findings = specificFindings(node, state);
  const locked = trafficLockedTable(node, state);
  if (locked !== null && state.lockTimeoutMs === 0) {
    findings.push({
      rule: "require-lock-timeout",
      detail: `waits for a lock on ${locked} with no lock_timeout`,
    });
  }
  updateState(node, state);
  return findings;
}

function specificFindings(node: Node, state: LintState): RawFinding[] {
  if ("AlterTableStmt" in node) return checkAlterTable(node.AlterTableStmt, state);
  if ("RenameStmt" in node) return checkRename(node, state);
  if ("DropStmt" in node) return checkDrop(node.DropStmt);
  if ("DropdbStmt" in node)
    return [{ rule: "drop-database", detail: `drops database ${node.DropdbStmt.dbname}` }];
  if ("IndexStmt" in node) return checkIndex(node.IndexStmt, state);
  if ("ReindexStmt" in node) return checkReindex(node.ReindexStmt, state);
  if ("ClusterStmt" in node)
    return [{ rule: "cluster", detail: `clusters ${relationName(node.ClusterStmt.relation)}` }];
  if ("VacuumStmt" in node && optionNames(node.VacuumStmt.options).includes("full")) {
    return [{ rule: "vacuum-full", detail: "VACUUM FULL" }];
  }
  if ("TruncateStmt" in node && node.TruncateStmt.behavior === "DROP_CASCADE") {
    return [{ rule: "truncate-cascade", detail: "TRUNCATE ... CASCADE" }];
  }
  if ("AlterEnumStmt" in node) return checkEnum(node.AlterEnumStmt, state);
  if ("TransactionStmt" in node) return checkTransaction(node.TransactionStmt.kind ?? "");
  return [];
}

function checkRename(node: Node, state: LintState): RawFinding[] {
  const rename = renameOf(node);
  if (!rename || state.isNewTable(rename.table)) return [];
  const rule = rename.kind === "column" ? "rename-column" : "rename-table";
  const what = rename.kind === "column" ? `${rename.table}.${rename.from}` : rename.from;
  if (state.phase === "expand" && !isServedByViews(rename, state.baseSchema)) {
    const detail = `renames ${what} to ${rename.to} outside schema ${state.baseSchema}, which versioned views cannot serve`;
    return [{ rule, severity: "error", detail }];
  }
  return [{ rule, detail: `renames ${what} to ${rename.to}` }];
}

function checkDrop(statement: { removeType?: string; concurrent?: boolean; objects?: Node[] }): RawFinding[] {
  const objects = (statement.objects ?? []).map((object) =>
    "List" in object ? names(object.List.items).join(".") : "String" in object ? object.String.sval : "?",
  );
  const what = objects.join(", ");
  switch (statement.removeType) {
    case "OBJECT_TABLE":
      return [{ rule: "drop-table", detail: `drops table ${what}` }];
    case "OBJECT_SCHEMA":
      return [{ rule: "drop-schema", detail: `drops schema ${what}` }];
    case "OBJECT_INDEX":
      return statement.concurrent
        ? []
        : [{ rule: "drop-index-non-concurrently", detail: `drops index ${what}` }];
    default:
      return [];
  }
}

function checkIndex(
  statement: { concurrent?: boolean; relation?: { relname?: string } },
  state: LintState,
): RawFinding[] {
  const table = statement.relation?.relname;
  if (statement.concurrent) {
    return state.inTransactionBlock
      ? [{ rule: "concurrently-in-transaction", detail: "CREATE INDEX CONCURRENTLY after BEGIN" }]
      : [];
  }
  if (state.isNewTable(table)) return [];
  return [
    { rule: "create-index-non-concurrently", detail: `creates an index on ${table} without CONCURRENTLY` },
  ];
}

function checkReindex(statement: { params?: Node[] }, state: LintState): RawFinding[] {
  if (!optionNames(statement.params).includes("concurrently")) {
    return [{ rule: "reindex-non-concurrently", detail: "REINDEX without CONCURRENTLY" }];
  }
  return state.inTransactionBlock
    ? [{ rule: "concurrently-in-transaction", detail: "REINDEX CONCURRENTLY after BEGIN" }]
    : [];
}

function checkEnum(statement: { newVal?: string; oldVal?: string }, state: LintState): RawFinding[] {
  if (!statement.newVal || statement.oldVal) return [];
  const version = state.options.serverVersionNum;
  const oldServer = version !== undefined && version < ENUM_IN_TRANSACTION_SINCE;
  if (state.inTransactionBlock && oldServer) {
    return [{ rule: "enum-add-value-in-transaction", detail: `ADD VALUE '${statement.newVal}' after BEGIN` }];
  }
  if (oldServer && state.statementCount > 1) {
    const detail = `ADD VALUE '${statement.newVal}' shares its migration with other statements on PostgreSQL ${Math.floor(version / 10000)}`;
    return [{ rule: "enum-add-value-in-transaction", detail }];
  }
  return [];
}

function checkTransaction(kind: string): RawFinding[] {
  const control = ["TRANS_STMT_BEGIN", "TRANS_STMT_START", "TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"];
  if (!control.includes(kind)) return [];
  return [{ rule: "transaction-control", detail: kind.replace("TRANS_STMT_", "") }];
}

function updateState(node: Node, state: LintState): void {
  if ("CreateStmt" in node && node.CreateStmt.relation?.relname)
    state.createdTables.add(node.CreateStmt.relation.relname);
  if ("CreateTableAsStmt" in node && node.CreateTableAsStmt.into?.rel?.relname) {
    state.createdTables.add(node.CreateTableAsStmt.into.rel.relname);
  }
  if ("TransactionStmt" in node) {
    const kind = node.TransactionStmt.kind;
    if (kind === "TRANS_STMT_BEGIN" || kind === "TRANS_STMT_START") state.inTransactionBlock = true;
    if (kind === "TRANS_STMT_COMMIT" || kind === "TRANS_STMT_ROLLBACK") state.inTransactionBlock = false;
  }
  if ("VariableSetStmt" in node && node.VariableSetStmt.name === "lock_timeout") {
    const set = node.VariableSetStmt;
    const value = set.args?.[0];
    if (set.kind === "VAR_SET_VALUE" && value && "A_Const" in value)
      state.setLockTimeout(constantValue(value.A_Const));
    if (set.kind === "VAR_RESET" || set.kind === "VAR_SET_DEFAULT") state.setLockTimeout(null);
  }
}
