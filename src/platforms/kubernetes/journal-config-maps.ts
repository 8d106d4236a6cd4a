import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzip as gzipCallback } from "node:zlib";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { CutoverError } from "../../errors.js";
import { callApi, isNotFound, type KubeClients, patchAs } from "./kube-clients.js";
import { FIELD_MANAGER, MANAGED_BY } from "./manifest-names.js";

export interface JournalConfigMapsOptions {
  readonly clients: KubeClients;
  readonly service: string;
  /** Journals kept, newest first; older ones are deleted after each put. Default 20. */
  readonly keep?: number;
  /** The most a compressed journal may take; larger ones are thinned. Default JOURNAL_MAX_BYTES. */
  readonly maxBytes?: number;
  readonly logger?: Logger;
}

/**
 * A ConfigMap holds at most 1 MiB: "The data stored in a ConfigMap cannot exceed 1 MiB"
 * (https://kubernetes.io/docs/concepts/configuration/configmap/); the API server's ValidateConfigMap
 * (kubernetes pkg/apis/core/validation/validation.go) sums the values of `data` and `binaryData` (decoded
 * bytes) and refuses more than core.MaxSecretSize, 1 MiB; the stored object, metadata included, must also
 * pass etcd's request limit of 1.5 MiB (https://etcd.io/docs/v3.5/dev-guide/limit/#request-size-limit).
 * 900 KiB leaves room for the labels and annotations.
 */
export const JOURNAL_MAX_BYTES = 900 * 1024;

/** In the thread pool: a large journal must not stall the process (its lock renewals, its scale-downs). */
const gzip = (data: Buffer | string) => promisify(gzipCallback)(data, { level: 9 });

const JOURNAL_KEY = "journal.jsonl.gz";
const ROLE = "journal";
const DEPLOY_LABEL = "cutover.dev/deploy";
const THINNED = "cutover.dev/journal-thinned";
/** A deploy id must fit a DNS label, as the ConfigMap's name and label value need. */
const DEPLOY_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A journal that does not fit a ConfigMap even with every sample tick left out. */
export class JournalTooLargeError extends CutoverError {
  constructor(deployId: string, bytes: number, maxBytes: number) {
    super(
      "JOURNAL_TOO_LARGE",
      `the journal of ${deployId} takes ${kib(bytes)} compressed without any samples, over the ${kib(maxBytes)} a ConfigMap can hold; it is not kept in the cluster (the runner that ran the deploy has it on disk)`,
    );
    this.name = "JournalTooLargeError";
  }
}

/**
 * Deploy journals where every CI runner finds them: one ConfigMap per deploy, `<service>-cutover-journal-<id>`,
 * the journal gzip-compressed in `binaryData`. A journal too large for a ConfigMap loses every second sample
 * tick until it fits (its meta, analysis and record lines always stay). Only the newest `keep` are kept.
 * Implements report/journal-shelf.ts's JournalShelf (structurally: platforms/ does not import report/).
 */
export class JournalConfigMaps {
  readonly #clients: KubeClients;
  readonly #service: string;
  readonly #keep: number;
  readonly #maxBytes: number;
  readonly #log: Logger;

  constructor(options: JournalConfigMapsOptions) {
    this.#clients = options.clients;
    this.#service = options.service;
    this.#keep = Math.max(1, options.keep ?? 20);
    this.#maxBytes = options.maxBytes ?? JOURNAL_MAX_BYTES;
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "journal-config-maps" });
  }

  /** Creates or replaces the deploy's ConfigMap (server-side apply), then deletes the oldest beyond `keep`. */
  async put(deployId: string, journalPath: string): Promise<void> {
    if (!DEPLOY_ID.test(deployId))
      throw new CutoverError("BAD_DEPLOY_ID", `"${deployId}" cannot name a ConfigMap; no journal kept`);
    const packed = await packJournal(deployId, await readFile(journalPath), this.#maxBytes);
    if (packed.thinned)
      this.#log.warn(
        { deploy: deployId, ...packed.thinned, bytes: packed.gzip.length },
        "the journal was too large for a ConfigMap: kept fewer sample ticks",
      );
    await this.#apply(deployId, packed);
    await this.#prune();
  }

  async get(deployId: string, journalPath: string): Promise<boolean> {
    if (!DEPLOY_ID.test(deployId)) return false;
    const map = await this.#read(this.#name(deployId));
    if (!map) return false;
    await writeAtomically(journalPath, unpack(map));
    return true;
  }

  async latest(): Promise<string | null> {
    const newest = (await this.#list()).at(-1);
    return newest ? this.#deployOf(newest) : null;
  }

  where(deployId: string | null): string {
    const namespace = this.#clients.namespace;
    if (deployId !== null) return `ConfigMap ${this.#name(deployId)} in namespace ${namespace}`;
    return `ConfigMaps labelled ${this.#selector()} in namespace ${namespace}`;
  }

  #name(deployId: string): string {
    return `${this.#service}-cutover-journal-${deployId}`;
  }

  #selector(): string {
    return `app=${this.#service},cutover.dev/role=${ROLE}`;
  }

  #deployOf(map: V1ConfigMap): string {
    const name = map.metadata?.name ?? "";
    return map.metadata?.labels?.[DEPLOY_LABEL] ?? name.slice(this.#name("").length);
  }

  async #apply(deployId: string, packed: PackedJournal): Promise<void> {
    const name = this.#name(deployId);
    const { core, namespace } = this.#clients;
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace,
        labels: { app: this.#service, "cutover.dev/role": ROLE, [DEPLOY_LABEL]: deployId, ...MANAGED_BY },
        annotations: packed.thinned
          ? { [THINNED]: `kept ${packed.thinned.kept} of ${packed.thinned.ticks} sample ticks` }
          : {},
      },
      binaryData: { [JOURNAL_KEY]: packed.gzip.toString("base64") },
    };
    await callApi(`writing the journal ConfigMap ${name}`, () =>
      core.patchNamespacedConfigMap(
        { name, namespace, body, fieldManager: FIELD_MANAGER, force: true },
        patchAs.apply(),
      ),
    );
  }

  /** Deletes the journals older than the newest `keep`, one by one (a deletecollection cannot pick "all but N"). */
  async #prune(): Promise<void> {
    const { core, namespace } = this.#clients;
    for (const map of (await this.#list()).slice(0, -this.#keep)) {
      const name = map.metadata?.name ?? "";
      await callApi(`deleting the old journal ConfigMap ${name}`, () =>
        core
          .deleteNamespacedConfigMap({ name, namespace })
          .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
      );
      this.#log.debug({ configMap: name }, "deleted an old deploy journal");
    }
  }

  /** This service's journal ConfigMaps, oldest first: by creation time, then by the deploy's number. */
  async #list(): Promise<V1ConfigMap[]> {
    const { core, namespace } = this.#clients;
    const list = await callApi(`listing the journal ConfigMaps (${this.#selector()})`, () =>
      core.listNamespacedConfigMap({ namespace, labelSelector: this.#selector() }),
    );
    const created = (map: V1ConfigMap) => map.metadata?.creationTimestamp?.getTime() ?? 0;
    const number = (map: V1ConfigMap) => sequenceOf(this.#deployOf(map));
    return list.items.sort((a, b) => created(a) - created(b) || number(a) - number(b));
  }

  #read(name: string): Promise<V1ConfigMap | null> {
    const { core, namespace } = this.#clients;
    return callApi(`reading the journal ConfigMap ${name}`, () =>
      core
        .readNamespacedConfigMap({ name, namespace })
        .catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e))),
    );
  }
}

/** A journal compressed for a ConfigMap; `thinned` says how many sample ticks it kept, when not all. */
interface PackedJournal {
  readonly gzip: Buffer;
  readonly thinned: { readonly ticks: number; readonly kept: number } | null;
}

/**
 * Gzips the journal as it is; when that is over `maxBytes`, leaves out every second sample tick (counted
 * from the last, which shows where traffic settled) and tries again, until it fits. Every other line stays.
 */
export async function packJournal(
  deployId: string,
  journal: Buffer,
  maxBytes: number,
): Promise<PackedJournal> {
  const whole = await gzip(journal);
  if (whole.length <= maxBytes) return { gzip: whole, thinned: null };
  const lines = journal
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
  const ticks = new Set(lines.flatMap((line, index) => (isTick(line) ? [index] : [])));
  let kept = [...ticks];
  let packed = whole;
  while (packed.length > maxBytes) {
    if (kept.length === 0) throw new JournalTooLargeError(deployId, packed.length, maxBytes);
    kept = halve(kept);
    const keep = new Set(kept);
    const text = lines.filter((_, index) => !ticks.has(index) || keep.has(index)).map((line) => `${line}\n`);
    packed = await gzip(text.join(""));
  }
  return { gzip: packed, thinned: { ticks: ticks.size, kept: kept.length } };
}

/** Every second element, counted from the last; none of one. */
function halve(indexes: readonly number[]): number[] {
  if (indexes.length <= 1) return [];
  return indexes.filter((_, i) => (indexes.length - 1 - i) % 2 === 0);
}

function isTick(line: string): boolean {
  try {
    return (JSON.parse(line) as { type?: unknown } | null)?.type === "tick";
  } catch {
    return false; // a line cut short by a crash: kept, as the reader skips it
  }
}

function unpack(map: V1ConfigMap): Buffer {
  const name = map.metadata?.name;
  const data = map.binaryData?.[JOURNAL_KEY];
  try {
    if (data === undefined) throw new Error(`no ${JOURNAL_KEY} in its binaryData`);
    return gunzipSync(Buffer.from(data, "base64"));
  } catch (error) {
    throw new CutoverError(
      "JOURNAL_CORRUPT",
      `ConfigMap ${name} does not hold a deploy journal (${(error as Error).message}); delete it with \`kubectl delete configmap ${name}\``,
    );
  }
}

/** Writes a temporary file beside `path` and renames it over, so a reader never sees half a journal. */
async function writeAtomically(path: string, content: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

/** The number in a deploy id ("d12" → 12); 0 when there is none. */
function sequenceOf(id: string): number {
  const match = /(\d+)$/.exec(id);
  return match ? Number(match[1]) : 0;
}

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`;
}
