/**
 * Field ownership and server-side apply, reduced to what a blue-green driver meets ([SSA], [CONF]):
 * every leaf field has managers; apply sets the fields in the applied configuration, removes fields the same
 * manager applied before and no longer sends, and refuses (409) to change a field another manager owns with
 * a different value unless `force=true`, which takes the field over. A PUT or a non-apply PATCH never
 * conflicts: it takes ownership of the fields it changed. Simplifications, said here so no test relies on
 * them: lists are atomic (real SSA merges `listType=map` lists by key; the driver always applies whole
 * lists, so the result is the same), and managedFields are kept beside the object, not in it.
 */
import {
  clone,
  deepEqual,
  deletePath,
  getPath,
  isObject,
  type Json,
  type JsonObject,
  setPath,
} from "./json.js";

export interface Owner {
  readonly manager: string;
  readonly operation: "Apply" | "Update";
  readonly apiVersion: string;
}

/** Maps (or structs) applied whole: `+mapType=atomic` / `+structType=atomic` ([CORE], [META] LabelSelector). */
const ATOMIC: Readonly<Record<string, readonly string[]>> = {
  services: ["spec.selector"],
  deployments: ["spec.selector"],
  poddisruptionbudgets: ["spec.selector"],
};

/** Fields nobody owns: identity and server-set metadata. */
const SEP = "\u0001";
const keyOf = (path: readonly string[]) => path.join(SEP);
const shown = (key: string) => `.${key.split(SEP).join(".")}`;

const UNOWNED = new Set([
  "apiVersion",
  "kind",
  "metadata.name",
  "metadata.namespace",
  "metadata.resourceVersion",
  "metadata.uid",
  "metadata.generation",
  "metadata.creationTimestamp",
  "metadata.managedFields",
]);

export function leafPaths(object: Json, resource: string, prefix: string[] = []): string[][] {
  const atomic = ATOMIC[resource] ?? [];
  if (!isObject(object) || atomic.includes(prefix.join("."))) return prefix.length > 0 ? [prefix] : [];
  const paths: string[][] = [];
  for (const [key, value] of Object.entries(object)) {
    const path = [...prefix, key];
    if (UNOWNED.has(path.join(".")) || path[0] === "status") continue;
    if (isObject(value) && Object.keys(value).length > 0) paths.push(...leafPaths(value, resource, path));
    else paths.push(path);
  }
  return paths;
}

export class ApplyConflict extends Error {
  constructor(readonly conflicts: readonly { readonly owner: Owner; readonly path: string }[]) {
    super(applyConflictMessage(conflicts));
  }
}

/** "Apply failed with 1 conflict: conflict with \"M\" using v1: .spec.selector" ([CONF]). */
function applyConflictMessage(conflicts: ApplyConflict["conflicts"]): string {
  const using = (o: Owner) => (o.operation === "Update" ? ` using ${o.apiVersion}` : "");
  if (conflicts.length === 1) {
    const [c] = conflicts as [ApplyConflict["conflicts"][number]];
    return `Apply failed with 1 conflict: conflict with "${c.owner.manager}"${using(c.owner)}: ${c.path}`;
  }
  const byManager = new Map<string, { owner: Owner; paths: string[] }>();
  for (const c of conflicts) {
    const entry = byManager.get(c.owner.manager) ?? { owner: c.owner, paths: [] };
    entry.paths.push(c.path);
    byManager.set(c.owner.manager, entry);
  }
  const groups = [...byManager.values()].map(
    ({ owner, paths }) =>
      `conflicts with "${owner.manager}"${using(owner)}:\n${paths.map((p) => `- ${p}`).join("\n")}`,
  );
  return `Apply failed with ${conflicts.length} conflicts: ${groups.join("\n")}`;
}

/** The owners of one object's fields, by dotted path. */
export class FieldOwners {
  readonly #owners = new Map<string, Owner[]>();
  readonly #resource: string;

  constructor(resource: string) {
    this.#resource = resource;
  }

  /** After a create, PUT or non-apply PATCH: `owner` owns every field that changed (or every field, on create). */
  recordUpdate(before: Json | null, after: Json, owner: Owner): void {
    for (const path of leafPaths(after, this.#resource)) {
      if (before !== null && deepEqual(getPath(before, path), getPath(after, path))) continue;
      this.#owners.set(keyOf(path), [owner]);
    }
    if (before !== null) {
      for (const path of leafPaths(before, this.#resource)) {
        if (getPath(after, path) === undefined) this.#owners.delete(keyOf(path));
      }
    }
  }

  /** Server-side apply of `applied` over `live` by `owner`; throws ApplyConflict unless `force`. */
  apply(live: JsonObject, applied: JsonObject, owner: Owner, force: boolean): JsonObject {
    const paths = leafPaths(applied, this.#resource);
    const conflicts = paths.flatMap((path) => {
      const others = (this.#owners.get(keyOf(path)) ?? []).filter((o) => o.manager !== owner.manager);
      const differs = !deepEqual(getPath(live, path), getPath(applied, path));
      return differs && others.length > 0 ? others.map((o) => ({ owner: o, path: shown(keyOf(path)) })) : [];
    });
    if (conflicts.length > 0 && !force) throw new ApplyConflict(conflicts);
    const result = clone(live);
    const sent = new Set(paths.map(keyOf));
    for (const [key, owners] of this.#owners) {
      const mine = owners.some((o) => o.manager === owner.manager && o.operation === "Apply");
      if (!mine || sent.has(key)) continue;
      const rest = owners.filter((o) => o.manager !== owner.manager);
      if (rest.length === 0) {
        deletePath(result, key.split(SEP));
        this.#owners.delete(key);
      } else this.#owners.set(key, rest);
    }
    for (const path of paths) {
      const value = getPath(applied, path) ?? null;
      const same = deepEqual(getPath(live, path), value);
      const shared = same
        ? (this.#owners.get(keyOf(path)) ?? []).filter((o) => o.manager !== owner.manager)
        : [];
      setPath(result, path, clone(value));
      this.#owners.set(keyOf(path), [...shared, owner]);
    }
    return result;
  }

  /** The managers of the field at `path`, e.g. ["spec", "selector"]. */
  managers(path: readonly string[]): readonly Owner[] {
    return this.#owners.get(keyOf(path)) ?? [];
  }
}
