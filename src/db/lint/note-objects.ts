import type { CreateStmt, DropStmt, Node } from "libpg-query";
import { renameOf } from "../rename-of.js";
import { names, objectNameParts, typeBaseName } from "./ast.js";
import { objectRenameOf } from "./check-rename.js";
import type { LintState, ObjectKind } from "./lint-state.js";

/** Column types whose column owns a sequence named "<table>_<column>_seq". */
const SERIAL_TYPES = new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);

const DROPPED_KIND: Readonly<Partial<Record<string, ObjectKind>>> = {
  OBJECT_TABLE: "table",
  OBJECT_VIEW: "view",
  OBJECT_MATVIEW: "view",
  OBJECT_SEQUENCE: "sequence",
  OBJECT_FUNCTION: "function",
  OBJECT_PROCEDURE: "function",
  OBJECT_ROUTINE: "function",
  OBJECT_AGGREGATE: "function",
  OBJECT_TYPE: "type",
  OBJECT_DOMAIN: "type",
  OBJECT_SCHEMA: "schema",
};

const ON_TABLE_KIND: Readonly<Partial<Record<string, ObjectKind>>> = {
  OBJECT_TRIGGER: "trigger",
  OBJECT_POLICY: "policy",
  OBJECT_RULE: "rule",
};

/**
 * Remembers the objects a statement makes, drops or renames, so later statements of the same migration
 * may change them freely: the running version does not use what this migration made. A CREATE OR REPLACE
 * makes nothing new (the object it replaces may be the running version's).
 */
export function noteObjects(node: Node, state: LintState): void {
  if ("CreateStmt" in node) noteTable(node.CreateStmt, state);
  else if ("CreateTableAsStmt" in node) {
    const statement = node.CreateTableAsStmt;
    const name = statement.into?.rel?.relname;
    if (name) state.noteCreated(statement.objtype === "OBJECT_MATVIEW" ? "view" : "table", name);
  } else if ("ViewStmt" in node && !node.ViewStmt.replace && node.ViewStmt.view?.relname) {
    state.noteCreated("view", node.ViewStmt.view.relname);
  } else if ("CreateSeqStmt" in node && node.CreateSeqStmt.sequence?.relname) {
    state.noteCreated("sequence", node.CreateSeqStmt.sequence.relname);
  } else if ("CreateSchemaStmt" in node && node.CreateSchemaStmt.schemaname) {
    state.noteCreated("schema", node.CreateSchemaStmt.schemaname);
    for (const element of node.CreateSchemaStmt.schemaElts ?? []) noteObjects(element, state);
  } else noteRoutineOrType(node, state);
  noteTableScoped(node, state);
  if ("DropStmt" in node) noteDropped(node.DropStmt, state);
  if ("RenameStmt" in node) noteRenamed(node, state);
}

function noteTable(statement: CreateStmt, state: LintState): void {
  const table = statement.relation?.relname;
  if (!table) return;
  state.noteCreated("table", table);
  for (const element of statement.tableElts ?? []) {
    if (!("ColumnDef" in element)) continue;
    const column = element.ColumnDef;
    const identity = (column.constraints ?? []).some(
      (c) => "Constraint" in c && c.Constraint.contype === "CONSTR_IDENTITY",
    );
    if (identity || SERIAL_TYPES.has(typeBaseName(column.typeName))) {
      state.noteCreated("sequence", `${table}_${column.colname}_seq`);
    }
  }
}

function noteRoutineOrType(node: Node, state: LintState): void {
  const last = (list: readonly Node[] | undefined) => names(list).at(-1);
  let made: [ObjectKind, string | undefined] | null = null;
  if ("CreateFunctionStmt" in node && !node.CreateFunctionStmt.replace)
    made = ["function", last(node.CreateFunctionStmt.funcname)];
  else if ("DefineStmt" in node && !node.DefineStmt.replace) {
    const kind = node.DefineStmt.kind;
    if (kind === "OBJECT_AGGREGATE") made = ["function", last(node.DefineStmt.defnames)];
    if (kind === "OBJECT_TYPE") made = ["type", last(node.DefineStmt.defnames)];
  } else if ("CreateEnumStmt" in node) made = ["type", last(node.CreateEnumStmt.typeName)];
  else if ("CreateRangeStmt" in node) made = ["type", last(node.CreateRangeStmt.typeName)];
  else if ("CreateDomainStmt" in node) made = ["type", last(node.CreateDomainStmt.domainname)];
  else if ("CompositeTypeStmt" in node) made = ["type", node.CompositeTypeStmt.typevar?.relname];
  if (made?.[1]) state.noteCreated(made[0], made[1]);
}

/** Triggers, policies and rules, named per table. */
function noteTableScoped(node: Node, state: LintState): void {
  const made = (kind: ObjectKind, table: string | undefined, name: string | undefined) => {
    if (table && name) state.noteCreated(kind, `${table}.${name}`);
  };
  if ("CreateTrigStmt" in node && !node.CreateTrigStmt.replace)
    made("trigger", node.CreateTrigStmt.relation?.relname, node.CreateTrigStmt.trigname);
  if ("CreatePolicyStmt" in node)
    made("policy", node.CreatePolicyStmt.table?.relname, node.CreatePolicyStmt.policy_name);
  if ("RuleStmt" in node && !node.RuleStmt.replace)
    made("rule", node.RuleStmt.relation?.relname, node.RuleStmt.rulename);
}

/** A dropped object's name is free: what is made under it later in the migration is new. */
function noteDropped(statement: DropStmt, state: LintState): void {
  const type = statement.removeType ?? "";
  const kind = DROPPED_KIND[type];
  const onTable = ON_TABLE_KIND[type];
  for (const object of statement.objects ?? []) {
    const parts = objectNameParts(object);
    const name = parts.at(-1);
    if (!name) continue;
    if (kind) state.noteFreed(kind, name);
    if (onTable) state.noteFreed(onTable, `${parts.at(-2) ?? "?"}.${name}`);
  }
}

/** A renamed object's old name is free; a renamed new object stays new under its new name. */
function noteRenamed(node: Node, state: LintState): void {
  const table = renameOf(node);
  if (table?.kind === "table") {
    if (state.isNewTable(table.table)) state.noteCreated("table", table.to);
    state.noteFreed("table", table.table);
    return;
  }
  const object = "RenameStmt" in node ? objectRenameOf(node.RenameStmt) : null;
  const old = object?.name.at(-1);
  if (!object || object.part || !old) return;
  if (state.isNew(object.renamed.kind, old)) state.noteCreated(object.renamed.kind, object.to);
  state.noteFreed(object.renamed.kind, old);
}
