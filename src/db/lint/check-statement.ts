import type { AlterEnumStmt, Node } from "libpg-query";
import { constantValue, names, optionNames, relationName } from "./ast.js";
import { checkAlterTable } from "./check-alter-table.js";
import { checkDrop } from "./check-drop.js";
import { checkRename } from "./check-rename.js";
import { checkReplace } from "./check-replace.js";
import type { LintState } from "./lint-state.js";
import { noteObjects } from "./note-objects.js";
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
  if ("DropStmt" in node) return checkDrop(node.DropStmt, state);
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
  return checkReplace(node, state);
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

function checkEnum(statement: AlterEnumStmt, state: LintState): RawFinding[] {
  if (statement.oldVal && statement.newVal) return checkEnumRename(statement, state);
  if (!statement.newVal) return [];
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

/** RENAME VALUE: the running version still writes and compares the old label. */
function checkEnumRename(statement: AlterEnumStmt, state: LintState): RawFinding[] {
  const type = names(statement.typeName);
  if (state.isNew("type", type.at(-1))) return [];
  const detail = `renames value '${statement.oldVal}' of type ${type.join(".")} to '${statement.newVal}'`;
  return [{ rule: "rename-enum-value", detail }];
}

function checkTransaction(kind: string): RawFinding[] {
  const control = ["TRANS_STMT_BEGIN", "TRANS_STMT_START", "TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"];
  if (!control.includes(kind)) return [];
  return [{ rule: "transaction-control", detail: kind.replace("TRANS_STMT_", "") }];
}

function updateState(node: Node, state: LintState): void {
  noteObjects(node, state);
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
