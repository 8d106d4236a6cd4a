import type { Node, ObjectType, RenameStmt } from "libpg-query";
import { isServedByViews, renameOf } from "../rename-of.js";
import { functionName, objectNameParts } from "./ast.js";
import type { LintState, ObjectKind } from "./lint-state.js";
import type { RawFinding } from "./raw-finding.js";
import type { RuleId } from "./rule.js";

/** How a rename of one kind of object (other than a table) the running version may use is reported. */
interface RenamedKind {
  readonly rule: RuleId;
  readonly kind: ObjectKind;
  readonly noun: string;
}

const RENAMED: Readonly<Partial<Record<ObjectType, RenamedKind>>> = {
  OBJECT_VIEW: { rule: "rename-view", kind: "view", noun: "view" },
  OBJECT_MATVIEW: { rule: "rename-view", kind: "view", noun: "materialized view" },
  OBJECT_FUNCTION: { rule: "rename-function", kind: "function", noun: "function" },
  OBJECT_PROCEDURE: { rule: "rename-function", kind: "function", noun: "procedure" },
  OBJECT_ROUTINE: { rule: "rename-function", kind: "function", noun: "routine" },
  OBJECT_AGGREGATE: { rule: "rename-function", kind: "function", noun: "aggregate" },
  OBJECT_TYPE: { rule: "rename-type", kind: "type", noun: "type" },
  OBJECT_DOMAIN: { rule: "rename-type", kind: "type", noun: "domain" },
  OBJECT_SEQUENCE: { rule: "rename-sequence", kind: "sequence", noun: "sequence" },
  OBJECT_SCHEMA: { rule: "rename-schema", kind: "schema", noun: "schema" },
};

/** A rename of a view, function, type, sequence or schema, or of a view's column or a type's attribute. */
export interface ObjectRename {
  readonly renamed: RenamedKind;
  /** The object's name parts before the statement: ["app", "orders_v1"]. */
  readonly name: readonly string[];
  /** "column total" when a part of the object is renamed rather than the object. */
  readonly part: string | null;
  readonly to: string;
  /** The object as the detail shows it: "total(int4)". */
  readonly shown: string;
}

/** The rename a statement makes of an object other than a table, or null. */
export function objectRenameOf(statement: RenameStmt): ObjectRename | null {
  const partOf = statement.renameType === "OBJECT_COLUMN" || statement.renameType === "OBJECT_ATTRIBUTE";
  const renamed = RENAMED[(partOf ? statement.relationType : statement.renameType) ?? "OBJECT_TABLE"];
  if (!renamed || !statement.newname) return null;
  const part = partOf
    ? `${statement.renameType === "OBJECT_COLUMN" ? "column" : "attribute"} ${statement.subname}`
    : null;
  const name = renamedName(statement);
  const shown =
    statement.object && "ObjectWithArgs" in statement.object
      ? functionName(statement.object.ObjectWithArgs)
      : name.join(".");
  return { renamed, name, part, to: statement.newname, shown };
}

/** Views, sequences and composite types are named by `relation`, schemas by `subname`, others by `object`. */
function renamedName(statement: RenameStmt): string[] {
  const relation = statement.relation;
  if (relation)
    return relation.schemaname ? [relation.schemaname, relation.relname ?? "?"] : [relation.relname ?? "?"];
  if (statement.renameType === "OBJECT_SCHEMA") return [statement.subname ?? "?"];
  return objectNameParts(statement.object);
}

/** Findings for ALTER ... RENAME: tables and columns (served by versioned views), then other objects. */
export function checkRename(node: Node, state: LintState): RawFinding[] {
  const rename = renameOf(node);
  if (rename) {
    if (state.isNewTable(rename.table)) return [];
    const rule = rename.kind === "column" ? "rename-column" : "rename-table";
    const what = rename.kind === "column" ? `${rename.table}.${rename.from}` : rename.from;
    if (state.phase === "expand" && !isServedByViews(rename, state.baseSchema)) {
      const detail = `renames ${what} to ${rename.to} outside schema ${state.baseSchema}, which versioned views cannot serve`;
      return [{ rule, severity: "error", detail }];
    }
    return [{ rule, detail: `renames ${what} to ${rename.to}` }];
  }
  const object = "RenameStmt" in node ? objectRenameOf(node.RenameStmt) : null;
  if (!object || state.isNew(object.renamed.kind, object.name.at(-1))) return [];
  const { noun, rule } = object.renamed;
  const what = object.part ? `${object.part} of ${noun} ${object.shown}` : `${noun} ${object.shown}`;
  return [{ rule, detail: `renames ${what} to ${object.to}` }];
}
