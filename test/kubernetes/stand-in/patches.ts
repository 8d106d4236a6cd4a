/**
 * The three non-apply PATCH formats, as the API server applies them (apiserver handlers/patch.go):
 * JSON merge patch (RFC 7386: maps merge, null deletes, lists are replaced), strategic merge patch
 * (apimachinery strategicpatch: lists with a patchMergeKey merge by key; `$patch: replace|delete` and
 * `$retainKeys` directives in maps), and JSON patch (RFC 6902). Server-side apply is in field-owners.ts.
 */
import { clone, deepEqual, isObject, type Json, type JsonObject } from "./json.js";

export class PatchError extends Error {
  constructor(
    readonly code: 400 | 413 | 422,
    message: string,
  ) {
    super(message);
  }
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** patchMergeKey of the lists the stand-in's callers patch, by the list's field path ([CORE] struct tags). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  "status.conditions": "type",
  "spec.template.spec.containers": "name",
  "spec.template.spec.containers[].env": "name",
  "spec.template.spec.containers[].ports": "containerPort",
  "spec.template.spec.readinessGates": "conditionType",
  "spec.ports": "port",
};

export function strategicMergePatch(target: Json, patch: Json, path = ""): Json {
  if (!isObject(patch)) return clone(patch);
  const base: JsonObject = isObject(target) ? clone(target) : {};
  const directive = patch.$patch;
  if (directive === "delete") return {};
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(patch)) {
      if (key !== "$retainKeys" && !retain.includes(key))
        throw new PatchError(400, "invalid patch format of retainKeys");
    }
    for (const key of Object.keys(base)) if (!retain.includes(key)) delete base[key];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$retainKeys" || key === "$patch") continue;
    const childPath = path === "" ? key : `${path}.${key}`;
    if (value === null) delete base[key];
    else if (Array.isArray(value)) base[key] = mergeList(base[key], value, childPath);
    else base[key] = strategicMergePatch(base[key] ?? null, value, childPath);
  }
  return base;
}

function mergeList(target: Json | undefined, patch: Json[], path: string): Json[] {
  const key = MERGE_KEYS[path];
  if (!key || !Array.isArray(target)) return clone(patch);
  const result = clone(target);
  for (const item of patch) {
    if (!isObject(item)) return clone(patch);
    const index = result.findIndex((existing) => isObject(existing) && deepEqual(existing[key], item[key]));
    if (item.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = strategicMergePatch(result[index] ?? null, item, `${path}[]`);
    else result.push(clone(item));
  }
  return result;
}

/** RFC 6902. A failed operation is 422 with the server's generic message (the detail is dropped). */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) {
    throw new PatchError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  }
  if (operations.length > 10000) throw new PatchError(413, "The request is too large");
  let doc = clone(target);
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string") throw invalidJsonPatch();
    doc = applyOperation(doc, op);
  }
  return doc;
}

const invalidJsonPatch = () =>
  new PatchError(422, "the server rejected our request due to an error in our request");

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw invalidJsonPatch();
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function applyOperation(doc: Json, op: JsonObject): Json {
  const path = pointer(op.path as string);
  switch (op.op) {
    case "add":
    case "replace":
      return put(doc, path, op.value ?? null, op.op === "replace");
    case "remove":
      return remove(doc, path);
    case "test":
      if (!deepEqual(read(doc, path), op.value)) throw invalidJsonPatch();
      return doc;
    case "move":
    case "copy": {
      const from = pointer(String(op.from));
      const value = clone(read(doc, from));
      const next = op.op === "move" ? remove(doc, from) : doc;
      return put(next, path, value, false);
    }
    default:
      throw invalidJsonPatch();
  }
}

function read(doc: Json, path: readonly string[]): Json {
  let here: Json = doc;
  for (const key of path) {
    if (Array.isArray(here) && /^\d+$/.test(key) && Number(key) < here.length)
      here = here[Number(key)] as Json;
    else if (isObject(here) && key in here) here = here[key] as Json;
    else throw invalidJsonPatch();
  }
  return here;
}

function put(doc: Json, path: readonly string[], value: Json, mustExist: boolean): Json {
  if (path.length === 0) return clone(value);
  const parent = read(doc, path.slice(0, -1));
  const key = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = key === "-" ? parent.length : Number(key);
    if (!Number.isInteger(index) || index > parent.length || (mustExist && index >= parent.length))
      throw invalidJsonPatch();
    if (mustExist) parent[index] = clone(value);
    else parent.splice(index, 0, clone(value));
  } else if (isObject(parent)) {
    if (mustExist && !(key in parent)) throw invalidJsonPatch();
    parent[key] = clone(value);
  } else throw invalidJsonPatch();
  return doc;
}

function remove(doc: Json, path: readonly string[]): Json {
  const parent = read(doc, path.slice(0, -1));
  const key = path[path.length - 1] as string;
  if (Array.isArray(parent) && /^\d+$/.test(key) && Number(key) < parent.length)
    parent.splice(Number(key), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw invalidJsonPatch();
  return doc;
}
