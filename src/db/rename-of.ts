import type { Node } from "libpg-query";

/** A rename of a table or of a table's column, as the versioned views see it. */
export interface Rename {
  readonly kind: "column" | "table";
  /** The table's name before the statement (unqualified). */
  readonly table: string;
  /** The schema written in the statement, or null when it relies on the search_path. */
  readonly schema: string | null;
  readonly from: string;
  readonly to: string;
}

/** The rename a statement makes, or null for any other statement (renames of indexes, constraints, ...). */
export function renameOf(node: Node): Rename | null {
  if (!("RenameStmt" in node)) return null;
  const statement = node.RenameStmt;
  const relation = statement.relation;
  if (!relation?.relname || !statement.newname) return null;
  const schema = relation.schemaname ?? null;
  if (statement.renameType === "OBJECT_COLUMN" && statement.relationType === "OBJECT_TABLE") {
    return {
      kind: "column",
      table: relation.relname,
      schema,
      from: statement.subname ?? "",
      to: statement.newname,
    };
  }
  if (statement.renameType === "OBJECT_TABLE") {
    return { kind: "table", table: relation.relname, schema, from: relation.relname, to: statement.newname };
  }
  return null;
}

/** Whether a rename is of a table in the base schema, which the versioned views can serve. */
export function isServedByViews(rename: Rename, baseSchema: string): boolean {
  return rename.schema === null || rename.schema === baseSchema;
}
