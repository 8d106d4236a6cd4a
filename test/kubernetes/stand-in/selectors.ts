/** Label and field selectors as list and watch take them (equality-based: k=v, k==v, k!=v, and bare k). */
import { isObject, type JsonObject } from "./json.js";
import { meta } from "./object-store.js";

export type Matcher = (object: JsonObject) => boolean;

export function labelMatcher(selector: string | null): Matcher {
  const terms = parse(selector);
  return (object) => {
    const labels = isObject(meta(object).labels) ? (meta(object).labels as JsonObject) : {};
    return terms.every(({ key, op, value }) =>
      op === "exists" ? key in labels : op === "=" ? labels[key] === value : labels[key] !== value,
    );
  };
}

export function fieldMatcher(selector: string | null): Matcher {
  const terms = parse(selector);
  return (object) =>
    terms.every(({ key, op, value }) => {
      const actual =
        key === "metadata.name"
          ? meta(object).name
          : key === "metadata.namespace"
            ? meta(object).namespace
            : undefined;
      return op === "=" ? actual === value : op === "!=" ? actual !== value : actual !== undefined;
    });
}

/** Does a Service-style selector map pick this object's labels? */
export function selects(selector: JsonObject | undefined, object: JsonObject): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const labels = isObject(meta(object).labels) ? (meta(object).labels as JsonObject) : {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function parse(selector: string | null): { key: string; op: "=" | "!=" | "exists"; value: string }[] {
  if (!selector) return [];
  return selector
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const ne = term.indexOf("!=");
      if (ne >= 0) return { key: term.slice(0, ne), op: "!=" as const, value: term.slice(ne + 2) };
      const eq = term.indexOf("=");
      if (eq < 0) return { key: term, op: "exists" as const, value: "" };
      const value = term.slice(eq + 1).replace(/^=/, "");
      return { key: term.slice(0, eq), op: "=" as const, value };
    });
}
