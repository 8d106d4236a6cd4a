/**
 * The stand-in's etcd: objects by resource, namespace and name; one global revision that every change
 * bumps (a write that changes nothing bumps nothing and emits nothing, [ETCD store.go]); a window of recent
 * events that watches replay from a resourceVersion, and that `compact()` empties, as etcd compaction does.
 */
import { randomUUID } from "node:crypto";
import { clone, deepEqual, isObject, type JsonObject } from "./json.js";
import type { ResourceInfo } from "./resources.js";

export interface StoredEvent {
  readonly revision: number;
  readonly resource: string;
  readonly namespace: string;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: JsonObject;
  /** The object before this change (for selector transitions); null on create. */
  readonly previous: JsonObject | null;
}

const WINDOW = 2000;

export class ObjectStore {
  #revision = 1000;
  readonly #objects = new Map<string, JsonObject>();
  #events: StoredEvent[] = [];
  /** Events after this revision are still in the window. */
  #oldest = 1000;
  readonly #listeners = new Set<(event: StoredEvent) => void>();

  get revision(): number {
    return this.#revision;
  }

  /** The oldest revision a watch can still start from. */
  get oldest(): number {
    return this.#oldest;
  }

  get(resource: string, namespace: string, name: string): JsonObject | null {
    const object = this.#objects.get(key(resource, namespace, name));
    return object ? clone(object) : null;
  }

  list(resource: string, namespace: string): JsonObject[] {
    const prefix = `${resource}/${namespace}/`;
    return [...this.#objects]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, o]) => clone(o))
      .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  }

  /** Every object of a resource, in every namespace. */
  listAll(resource: string): JsonObject[] {
    return [...this.#objects].filter(([k]) => k.startsWith(`${resource}/`)).map(([, o]) => clone(o));
  }

  create(info: ResourceInfo, namespace: string, object: JsonObject): JsonObject {
    const stored = clone(object);
    const metadata = meta(stored);
    metadata.namespace = namespace;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = seconds(new Date());
    if (info.generation !== "none") metadata.generation = 1;
    return this.#commit(info.plural, namespace, stored, null);
  }

  /** Stores `next` in place of `previous`; returns the stored object (unchanged when nothing changed). */
  update(info: ResourceInfo, namespace: string, previous: JsonObject, next: JsonObject): JsonObject {
    const stored = clone(next);
    const metadata = meta(stored);
    const before = meta(previous);
    for (const k of ["uid", "creationTimestamp", "namespace", "name"]) metadata[k] = before[k] ?? null;
    metadata.resourceVersion = before.resourceVersion ?? null;
    if (info.generation !== "none") {
      const specChanged = !deepEqual(previous.spec, stored.spec);
      const annotationsChanged =
        info.generation === "spec+annotations" && !deepEqual(before.annotations, metadata.annotations);
      metadata.generation = (Number(before.generation) || 1) + (specChanged || annotationsChanged ? 1 : 0);
    }
    if (deepEqual(previous, stored)) return clone(previous);
    return this.#commit(info.plural, namespace, stored, previous);
  }

  delete(info: ResourceInfo, namespace: string, name: string): JsonObject | null {
    const previous = this.#objects.get(key(info.plural, namespace, name));
    if (!previous) return null;
    this.#objects.delete(key(info.plural, namespace, name));
    this.#revision += 1;
    const last = clone(previous);
    meta(last).resourceVersion = String(this.#revision);
    this.#record({
      revision: this.#revision,
      resource: info.plural,
      namespace,
      type: "DELETED",
      object: last,
      previous,
    });
    return last;
  }

  /** Events after `revision`, or "expired" when the window no longer reaches back that far. */
  eventsAfter(revision: number): StoredEvent[] | "expired" {
    if (revision < this.#oldest) return "expired";
    return this.#events.filter((e) => e.revision > revision);
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets every event so far: a watch from an older resourceVersion now gets 410 Expired. */
  compact(): void {
    this.#events = [];
    this.#oldest = this.#revision;
  }

  #commit(resource: string, namespace: string, object: JsonObject, previous: JsonObject | null): JsonObject {
    this.#revision += 1;
    meta(object).resourceVersion = String(this.#revision);
    this.#objects.set(key(resource, namespace, nameOf(object)), object);
    const type = previous ? "MODIFIED" : "ADDED";
    this.#record({ revision: this.#revision, resource, namespace, type, object: clone(object), previous });
    return clone(object);
  }

  #record(event: StoredEvent): void {
    this.#events.push(event);
    if (this.#events.length > WINDOW) {
      const dropped = this.#events.splice(0, this.#events.length - WINDOW);
      this.#oldest = dropped[dropped.length - 1]?.revision ?? this.#oldest;
    }
    for (const listener of this.#listeners) listener(event);
  }
}

const key = (resource: string, namespace: string, name: string) => `${resource}/${namespace}/${name}`;

export function meta(object: JsonObject): JsonObject {
  if (!isObject(object.metadata)) object.metadata = {};
  return object.metadata as JsonObject;
}

export const nameOf = (object: JsonObject) => String(meta(object).name ?? "");

/** metav1.Time: RFC 3339 in whole seconds. */
export const seconds = (date: Date) => date.toISOString().replace(/\.\d+Z$/, "Z");
