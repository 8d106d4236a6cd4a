import type { A_Const, DefElem, Node, ObjectWithArgs, RangeVar, TypeName } from "libpg-query";

/** Small readers over libpg_query's JSON tree (protobuf JSON: zero values and empty lists are omitted). */

/** The `sval`s of a list of String nodes: ["pg_catalog", "int4"]. */
export function names(list: readonly Node[] | undefined): string[] {
  return (list ?? []).flatMap((node) => ("String" in node ? [node.String.sval ?? ""] : []));
}

/** A table as written: "users" or "app.users". */
export function relationName(relation: RangeVar | undefined): string {
  if (!relation) return "?";
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : (relation.relname ?? "?");
}

/** The last part of a type's name, lower case: "int4", "text", "bigserial". */
export function typeBaseName(typeName: TypeName | undefined): string {
  return (names(typeName?.names).at(-1) ?? "").toLowerCase();
}

/** The DefElem names of an option list, lower case: ["full", "concurrently"]. */
export function optionNames(list: readonly Node[] | undefined): string[] {
  return (list ?? []).flatMap((node) => ("DefElem" in node ? [(node.DefElem as DefElem).defname ?? ""] : []));
}

/** Names of every function called anywhere in an expression (last part, lower case). */
export function calledFunctions(expression: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== "object") return;
    for (const [key, child] of Object.entries(value)) {
      if (key === "FuncCall") {
        const call = child as { funcname?: Node[] };
        found.push((names(call.funcname).at(-1) ?? "").toLowerCase());
      }
      visit(child);
    }
  };
  visit(expression);
  return found;
}

/** A constant's value as PostgreSQL would read it in SET: 0 when protobuf omitted it. */
export function constantValue(constant: A_Const): string | number {
  if (constant.sval) return constant.sval.sval ?? "";
  if (constant.ival) return constant.ival.ival ?? 0;
  if (constant.fval) return Number(constant.fval.fval ?? 0);
  return 0;
}

/** A function as written in DROP or ALTER: "total(int4, text)", or "total" when no arguments are given. */
export function functionName(object: ObjectWithArgs): string {
  const name = names(object.objname).join(".");
  if (object.args_unspecified) return name;
  const args = (object.objargs ?? []).map((arg) => ("TypeName" in arg ? typeBaseName(arg.TypeName) : "?"));
  return `${name}(${args.join(", ")})`;
}

/** The parts of the name of one object of a DROP or ALTER: ["app", "orders_v1"]; ["users", "users_touch"]. */
export function objectNameParts(object: Node | undefined): string[] {
  if (!object) return [];
  if ("List" in object) return names(object.List.items);
  if ("String" in object) return [object.String.sval ?? ""];
  if ("ObjectWithArgs" in object) return names(object.ObjectWithArgs.objname);
  if ("TypeName" in object) return names(object.TypeName.names);
  return [];
}
