import { setTimeout as sleep } from "node:timers/promises";
import type { KubernetesListObject, KubernetesObject, Watch } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiMessage, apiStatus } from "./kube-clients.js";

/** A watch that lasted less than this is followed by a pause before the next one. */
const MIN_WATCH_MS = 1_000;

export interface WatchedListOptions<T extends KubernetesObject> {
  /** What is watched, for the logs: "pods of shop". */
  readonly what: string;
  readonly watch: Watch;
  /** The collection path, e.g. /api/v1/namespaces/shop/pods. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** The same collection listed with the same selectors. */
  readonly list: () => Promise<KubernetesListObject<T>>;
  /** Called after every change to the cache (an event, or a list that replaced it). */
  readonly onChange: () => void;
  readonly logger: Logger;
  /** Each watch asks the server to end it after this long, then watches again from where it was. */
  readonly timeoutSeconds?: number;
  /** The pause after a failed list or watch. */
  readonly retryMs?: number;
}

type WatchEnd = "ended" | "expired";

/**
 * A cache of one collection kept by list + watch, as client-go's reflector keeps one: list, then watch from
 * the list's resourceVersion and apply each event; when the watch ends, watch again from the last
 * resourceVersion seen; when that is too old (410 Expired, as an HTTP status or an ERROR event), list
 * again. A failed call is logged and retried after a pause; nothing here ever throws to its owner.
 */
export class WatchedList<T extends KubernetesObject> {
  readonly #o: WatchedListOptions<T>;
  readonly #items = new Map<string, T>();
  readonly #stop = new AbortController();
  #resourceVersion = "";
  #synced = false;
  #running: Promise<void> | null = null;

  constructor(options: WatchedListOptions<T>) {
    this.#o = options;
  }

  /** True once the first list has landed: the cache then says what the cluster holds. */
  get synced(): boolean {
    return this.#synced;
  }

  items(): T[] {
    return [...this.#items.values()];
  }

  get(name: string): T | undefined {
    return this.#items.get(name);
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        if (this.#resourceVersion === "") await this.#list();
        const ended = await this.#watchOnce(signal);
        // A watch that a proxy closes at once, again and again, must not turn into a loop of requests.
        if (Date.now() - started < MIN_WATCH_MS)
          await sleep(this.#o.retryMs ?? 1_000, undefined, { signal }).catch(() => undefined);
        if (ended === "expired") {
          this.#o.logger.info(
            { watching: this.#o.what },
            "the watch must start over (410 Expired or an ERROR event): listing again",
          );
          this.#resourceVersion = "";
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#o.logger.warn(
          { watching: this.#o.what, err: apiMessage(error) },
          "list or watch failed; trying again",
        );
        await sleep(this.#o.retryMs ?? 1_000, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  async #list(): Promise<void> {
    const list = await this.#o.list();
    this.#items.clear();
    for (const item of list.items) this.#items.set(item.metadata?.name ?? "", item);
    this.#resourceVersion = list.metadata?.resourceVersion ?? "";
    this.#synced = true;
    this.#o.onChange();
  }

  /** One watch from the last resourceVersion; resolves when it ends, rejects when it failed. */
  #watchOnce(signal: AbortSignal): Promise<WatchEnd> {
    const { watch, path, labelSelector, fieldSelector, timeoutSeconds } = this.#o;
    const query = {
      labelSelector,
      fieldSelector,
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: timeoutSeconds ?? 300,
    };
    return new Promise<WatchEnd>((resolve, reject) => {
      if (signal.aborted) return resolve("ended"); // stopped while it listed
      let expired = false;
      let controller: AbortController | undefined;
      // The controller comes once the response has started; a watch stopped before then is aborted when it does.
      const abort = () => {
        controller?.abort();
        resolve("ended");
      };
      signal.addEventListener("abort", abort, { once: true });
      const done = (error: unknown) => {
        signal.removeEventListener("abort", abort);
        if (!error) resolve(expired ? "expired" : "ended");
        else if (apiStatus(error) === 410) resolve("expired");
        else reject(error);
      };
      const onEvent = (type: string, object: unknown) => {
        if (type === "ERROR")
          expired = true; // 410 Expired, or anything else the server could not serve: list again
        else this.#apply(type, object as T);
      };
      watch.watch(path, query, onEvent, done).then((c) => {
        controller = c;
        if (signal.aborted) c.abort();
      }, done);
    });
  }

  #apply(type: string, object: T): void {
    const name = object.metadata?.name ?? "";
    this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
    if (type === "ADDED" || type === "MODIFIED") this.#items.set(name, object);
    else if (type === "DELETED") this.#items.delete(name);
    else return; // BOOKMARK: only the resourceVersion moves
    this.#o.onChange();
  }
}
