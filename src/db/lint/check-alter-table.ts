import type { AlterTableCmd, AlterTableStmt, Constraint } from "libpg-query";
import { names, relationName, typeBaseName } from "./ast.js";
import { checkAddedColumn } from "./check-column-definition.js";
import type { LintState } from "./lint-state.js";
import type { RawFinding } from "./raw-finding.js";

/** Type changes that never rewrite (assuming, as is usual, the column was varchar or text). */
const NO_REWRITE_TYPES = new Set(["text", "varchar"]);

/** Findings for ALTER TABLE; a table created earlier in the same migration is empty and unused, so exempt. */
export function checkAlterTable(statement: AlterTableStmt, state: LintState): RawFinding[] {
  if (statement.objtype !== undefined && statement.objtype !== "OBJECT_TABLE") return [];
  const table = statement.relation?.relname ?? "?";
  const shown = relationName(statement.relation);
  const commands = (statement.cmds ?? []).flatMap((node) =>
    "AlterTableCmd" in node ? [node.AlterTableCmd] : [],
  );
  const findings: RawFinding[] = [];
  for (const command of commands) {
    noteConstraints(command, table, state);
    if (!state.isNewTable(table)) findings.push(...checkCommand(command, shown, table, state));
  }
  return findings;
}

function checkCommand(command: AlterTableCmd, shown: string, table: string, state: LintState): RawFinding[] {
  const column = command.name ?? "?";
  switch (command.subtype) {
    case "AT_AddColumn":
      return command.def && "ColumnDef" in command.def ? checkAddedColumn(shown, command.def.ColumnDef) : [];
    case "AT_DropColumn":
      return [{ rule: "drop-column", detail: `drops ${shown}.${column}` }];
    case "AT_SetNotNull":
      return state.context.hasValidNotNullCheck(table, column)
        ? []
        : [{ rule: "set-not-null", detail: `${shown}.${column} SET NOT NULL` }];
    case "AT_DropNotNull":
      return [{ rule: "drop-not-null", detail: `${shown}.${column} DROP NOT NULL` }];
    case "AT_AlterColumnType":
      return checkTypeChange(command, shown, column);
    case "AT_AddConstraint":
      return command.def && "Constraint" in command.def
        ? checkConstraint(command.def.Constraint, shown, table, state)
        : [];
    case "AT_DropConstraint":
      return [{ rule: "drop-constraint", detail: `drops constraint ${column} of ${shown}` }];
    default:
      return [];
  }
}

function checkTypeChange(command: AlterTableCmd, shown: string, column: string): RawFinding[] {
  const definition = command.def && "ColumnDef" in command.def ? command.def.ColumnDef : undefined;
  const type = typeBaseName(definition?.typeName);
  const widening = NO_REWRITE_TYPES.has(type) && !definition?.typeName?.typmods && !definition?.raw_default;
  return widening
    ? []
    : [{ rule: "alter-column-type", detail: `${shown}.${column} becomes ${type || "another type"}` }];
}

function checkConstraint(
  constraint: Constraint,
  shown: string,
  table: string,
  state: LintState,
): RawFinding[] {
  const name = constraint.conname ? `${constraint.conname} on ${shown}` : `a constraint on ${shown}`;
  switch (constraint.contype) {
    case "CONSTR_UNIQUE":
      return constraint.indexname ? [] : [{ rule: "add-unique-constraint", detail: `adds UNIQUE ${name}` }];
    case "CONSTR_PRIMARY":
      return constraint.indexname
        ? []
        : [{ rule: "add-primary-key-constraint", detail: `adds PRIMARY KEY ${name}` }];
    case "CONSTR_CHECK":
      return constraint.skip_validation
        ? []
        : [{ rule: "add-check-without-not-valid", detail: `adds CHECK ${name}` }];
    case "CONSTR_FOREIGN":
      return constraint.skip_validation
        ? []
        : [{ rule: "add-foreign-key-without-not-valid", detail: `adds FOREIGN KEY ${name}` }];
    case "CONSTR_NOTNULL": {
      const column = names(constraint.keys)[0] ?? "?";
      return state.context.hasValidNotNullCheck(table, column)
        ? []
        : [{ rule: "set-not-null", detail: `adds NOT NULL ${name} on ${column}` }];
    }
    default:
      return [];
  }
}

/** Remembers CHECK (c IS NOT NULL) constraints and their validation, for set-not-null. */
function noteConstraints(command: AlterTableCmd, table: string, state: LintState): void {
  if (command.subtype === "AT_ValidateConstraint" && command.name) {
    state.context.noteValidated(command.name);
    return;
  }
  if (command.subtype !== "AT_AddConstraint" || !command.def || !("Constraint" in command.def)) return;
  const constraint = command.def.Constraint;
  const test =
    constraint.raw_expr && "NullTest" in constraint.raw_expr ? constraint.raw_expr.NullTest : undefined;
  if (constraint.contype !== "CONSTR_CHECK" || !constraint.conname || test?.nulltesttype !== "IS_NOT_NULL")
    return;
  const column = test.arg && "ColumnRef" in test.arg ? names(test.arg.ColumnRef.fields).at(-1) : undefined;
  if (column) state.context.noteNotNullCheck(constraint.conname, table, column, !constraint.skip_validation);
}
