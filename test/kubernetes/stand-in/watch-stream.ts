/**
 * A watch: 200, application/json, chunked, one {"type","object"} per line ([WH], [CON]). Without a
 * resourceVersion (or "0") it starts with synthetic ADDED events for the current objects; with one it
 * replays only later changes, or sends one ERROR event with 410 Expired and closes when that revision was
 * compacted ([CACHER]). An object that starts or stops matching the selector arrives as ADDED or DELETED
 * ([ETCD watcher.go]). timeoutSeconds ends the stream cleanly, with no ERROR event ([WH]).
 */
import type { ServerResponse } from "node:http";
import type { JsonObject } from "./json.js";
import { meta, type ObjectStore, type StoredEvent } from "./object-store.js";
import { apiVersionOf, type ResourceInfo } from "./resources.js";
import type { Matcher } from "./selectors.js";
import { expiredEvent } from "./status.js";

export interface WatchRequest {
  readonly info: ResourceInfo;
  readonly namespace: string;
  readonly matches: Matcher;
  readonly resourceVersion: string | null;
  readonly timeoutSeconds: number | null;
}

export function serveWatch(
  store: ObjectStore,
  request: WatchRequest,
  res: ServerResponse,
  onEnd: () => void,
): void {
  const { info, namespace, matches } = request;
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  res.flushHeaders(); // the API server answers a watch's head at once, before any event
  const send = (type: string, object: JsonObject) => {
    const body = type === "ERROR" ? object : withType(info, object);
    res.write(`${JSON.stringify({ type, object: body })}\n`);
  };
  const forward = (event: StoredEvent) => {
    if (event.resource !== info.plural || event.namespace !== namespace) return;
    const now = event.type !== "DELETED" && matches(event.object);
    const before = event.previous !== null && matches(event.previous);
    if (event.type === "DELETED") {
      if (before) send("DELETED", event.object);
    } else if (now && before) send("MODIFIED", event.object);
    else if (now) send("ADDED", event.object);
    else if (before) send("DELETED", event.object);
  };
  const rv = request.resourceVersion;
  if (rv === null || rv === "" || rv === "0") {
    for (const object of store.list(info.plural, namespace)) if (matches(object)) send("ADDED", object);
  } else {
    const replay = store.eventsAfter(Number(rv));
    if (replay === "expired" || !Number.isFinite(Number(rv))) {
      send("ERROR", expiredEvent(rv, store.oldest));
      res.end();
      onEnd();
      return;
    }
    for (const event of replay) forward(event);
  }
  const unsubscribe = store.subscribe(forward);
  const timer = request.timeoutSeconds
    ? setTimeout(() => res.end(), request.timeoutSeconds * 1000)
    : undefined;
  const stop = () => {
    clearTimeout(timer);
    unsubscribe();
    onEnd();
  };
  res.on("close", stop);
}

/** Objects in responses carry their apiVersion and kind. */
export function withType(info: ResourceInfo, object: JsonObject): JsonObject {
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return { apiVersion: apiVersionOf(info), kind: info.kind, ...rest, metadata: meta(rest as JsonObject) };
}
