/** JSON values as the stand-in handles them: API objects are plain JSON. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The object at `path` (a list of keys), or undefined. */
export function getPath(object: Json | undefined, path: readonly string[]): Json | undefined {
  let here: Json | undefined = object;
  for (const key of path) {
    if (!isObject(here)) return undefined;
    here = here[key];
  }
  return here;
}

export function setPath(object: JsonObject, path: readonly string[], value: Json): void {
  let here = object;
  for (const key of path.slice(0, -1)) {
    const next = here[key];
    if (!isObject(next)) here[key] = {};
    here = here[key] as JsonObject;
  }
  here[path[path.length - 1] as string] = value;
}

export function deletePath(object: JsonObject, path: readonly string[]): void {
  const parent = getPath(object, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1] as string];
}

/** An object's field, as an object (created when missing). */
export function field(object: JsonObject, key: string): JsonObject {
  const value = object[key];
  if (isObject(value)) return value;
  const created: JsonObject = {};
  object[key] = created;
  return created;
}

export const str = (value: Json | undefined): string | undefined =>
  typeof value === "string" ? value : undefined;
export const num = (value: Json | undefined): number | undefined =>
  typeof value === "number" ? value : undefined;
