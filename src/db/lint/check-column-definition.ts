import type { ColumnDef, Constraint } from "libpg-query";
import { calledFunctions, typeBaseName } from "./ast.js";
import type { RawFinding } from "./raw-finding.js";

/** Functions whose value changes per row: a default calling them fills every existing row, a rewrite. */
const VOLATILE = new Set([
  "random",
  "random_normal",
  "gen_random_uuid",
  "gen_random_bytes",
  "uuid_generate_v1",
  "uuid_generate_v1mc",
  "uuid_generate_v4",
  "uuidv4",
  "uuidv7",
  "clock_timestamp",
  "timeofday",
  "nextval",
  "currval",
  "lastval",
  "setval",
  "txid_current",
  "pg_current_xact_id",
]);

/** Stable or immutable functions: PostgreSQL 11+ stores their value once, without a rewrite. */
const NOT_VOLATILE = new Set([
  "now",
  "transaction_timestamp",
  "statement_timestamp",
  "current_setting",
  "lower",
  "upper",
  "length",
  "concat",
  "concat_ws",
  "md5",
  "abs",
  "round",
  "date_trunc",
  "make_interval",
  "to_timestamp",
  "to_date",
  "jsonb_build_object",
  "json_build_object",
  "jsonb_build_array",
  "json_build_array",
  "array_fill",
  "btrim",
  "replace",
]);

const SERIAL_TYPES = new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);

function constraintsOf(column: ColumnDef): Constraint[] {
  return (column.constraints ?? []).flatMap((node) => ("Constraint" in node ? [node.Constraint] : []));
}

/** Findings for `ADD COLUMN <column>` on an existing table that has rows. */
export function checkAddedColumn(table: string, column: ColumnDef): RawFinding[] {
  const name = `${table}.${column.colname ?? "?"}`;
  const constraints = constraintsOf(column);
  const has = (type: Constraint["contype"]) => constraints.some((c) => c.contype === type);
  const findings: RawFinding[] = [];
  const filled = has("CONSTR_DEFAULT") || has("CONSTR_IDENTITY") || has("CONSTR_GENERATED");
  if (
    (has("CONSTR_NOTNULL") || has("CONSTR_PRIMARY")) &&
    !filled &&
    !SERIAL_TYPES.has(typeBaseName(column.typeName))
  ) {
    findings.push({
      rule: "add-column-not-null-without-default",
      detail: `${name} is NOT NULL with no default`,
    });
  }
  findings.push(...defaultFindings(name, column, constraints));
  for (const constraint of constraints) findings.push(...inlineConstraintFindings(name, constraint));
  return findings;
}

function defaultFindings(name: string, column: ColumnDef, constraints: readonly Constraint[]): RawFinding[] {
  if (SERIAL_TYPES.has(typeBaseName(column.typeName))) {
    return [
      {
        rule: "volatile-default",
        detail: `${name} is ${typeBaseName(column.typeName)}: its default is nextval()`,
      },
    ];
  }
  const findings: RawFinding[] = [];
  for (const constraint of constraints) {
    if (constraint.contype === "CONSTR_IDENTITY") {
      findings.push({
        rule: "volatile-default",
        detail: `${name} is an identity column: every row gets a value`,
      });
    }
    if (constraint.contype === "CONSTR_GENERATED" && constraint.generated_kind !== "v") {
      findings.push({ rule: "add-stored-generated-column", detail: `${name} is GENERATED ... STORED` });
    }
    if (constraint.contype !== "CONSTR_DEFAULT") continue;
    const calls = calledFunctions(constraint.raw_expr);
    const volatile = calls.filter((fn) => VOLATILE.has(fn));
    const unknown = calls.filter((fn) => !VOLATILE.has(fn) && !NOT_VOLATILE.has(fn));
    if (volatile.length > 0) {
      findings.push({ rule: "volatile-default", detail: `${name} defaults to ${volatile[0]}()` });
    } else if (unknown.length > 0) {
      findings.push({
        rule: "volatile-default",
        severity: "warning",
        detail: `${name} defaults to ${unknown[0]}(), which cutover cannot tell is not volatile; if it is volatile the table is rewritten`,
      });
    }
  }
  return findings;
}

function inlineConstraintFindings(name: string, constraint: Constraint): RawFinding[] {
  switch (constraint.contype) {
    case "CONSTR_UNIQUE":
      return [{ rule: "add-unique-constraint", detail: `${name} is declared UNIQUE` }];
    case "CONSTR_PRIMARY":
      return [{ rule: "add-primary-key-constraint", detail: `${name} is declared PRIMARY KEY` }];
    case "CONSTR_CHECK":
      return [
        {
          rule: "add-check-without-not-valid",
          detail: `${name} has an inline CHECK, which cannot be NOT VALID`,
        },
      ];
    case "CONSTR_FOREIGN":
      return [
        {
          rule: "add-foreign-key-without-not-valid",
          detail: `${name} REFERENCES ${constraint.pktable?.relname ?? "?"} inline, which cannot be NOT VALID`,
        },
      ];
    default:
      return [];
  }
}
