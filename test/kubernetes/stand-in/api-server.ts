/**
 * An in-process stand-in for the Kubernetes API server: a real HTTP server on loopback that
 * @kubernetes/client-node talks to through a generated kubeconfig. It serves the endpoints the cutover
 * driver uses, and behaves on each as the real server is documented to (shared/reference/kubernetes-api.md;
 * the tags name the upstream source there). It is a faithful mock: no cluster can run on these machines.
 *
 * | behaviour                                                                     | source                 |
 * |-------------------------------------------------------------------------------|------------------------|
 * | paths /api/v1/namespaces/{ns}/{r}[/{name}[/status|scale]], /apis/{g}/{v}/...  | [INST]                 |
 * | GET one, GET list (labelSelector, fieldSelector), POST, PUT, PATCH, DELETE    | [INST] [STORE]         |
 * | PATCH types json-patch, merge-patch, strategic-merge, apply-patch; else 415   | §1 [INST] [PATCH]      |
 * | apply without ?fieldManager → 422; ?force on a non-apply patch → 422          | §1 [VAL]               |
 * | non-apply patch of a missing object → 404; apply creates it → 201             | §1 [PATCH] [STORE]     |
 * | merge patch: maps merge, null deletes; strategic: by patchMergeKey, $patch,   | §1 [SMP]               |
 * |   $retainKeys (unlisted key → 400); json-patch failure → 422, > 10000 ops 413 | §1 [PATCH] [ERR]       |
 * | apply: atomic Service/Deployment selector replaced whole; another manager's   | §1 [SSA] [CONF]        |
 * |   field with another value → 409 "Apply failed with N conflict(s)" unless force |                      |
 * | PUT / non-apply PATCH take ownership, never conflict; default manager = UA    | §1 [SSA] [PATCH]       |
 * | resourceVersion in a PUT or patch body that differs → 409 Conflict Status     | §2 [STORE] [ERR]       |
 * | no resourceVersion → applied to the latest object, unconditional              | §2 [PATCH] [SVC]       |
 * | 409 AlreadyExists, 404 NotFound, 422 Invalid Status bodies and details        | §2 [ERR]               |
 * | watch=true|1|"": chunked JSON lines, ADDED/MODIFIED/DELETED/ERROR, selector   | §3 [WH] [ETCD] [CON]   |
 * |   transitions as ADDED/DELETED, 410 Expired event, timeoutSeconds ends cleanly |                       |
 * | a write that changes nothing bumps no resourceVersion and sends no event       | §3 [ETCD store.go]    |
 * | Deployment generation bumps on spec or annotation change; main resource       | §4 [DSTRAT]            |
 * |   ignores status, /status ignores everything else                             |                        |
 * | Deployment status counts and conditions, ProgressDeadlineExceeded (controller) | §4 [DCTL]             |
 * | pods/{name}/status strategic merge of conditions by type; kubelet computes    | §6 [CORE] [GEN]        |
 * |   Ready from containers and every readiness gate                              |                        |
 * | deployments/{name}/scale: autoscaling/v1 Scale, stale resourceVersion → 409,  | §7 [DSTORE] [DSTRAT]   |
 * |   a write bumps generation                                                     |                        |
 * | HPA: current 0 and min ≠ 0 → no scaling; below min → min; above max → max     | §7 [HPA]               |
 * | pods/{name[:port]}/proxy/{path}: forwarded to the pod's process; 404, 400      | pod-proxy.ts (upstream |
 * |   "address not allowed", 503 "error trying to reach service" as Status bodies |   files named there)   |
 * | Secret stringData merged into data (base64) on every write, never stored      | [CORE] Secret          |
 *
 * Not from the reference (upstream, unchecked here): the 256 KiB limit on all annotations of an object
 * (apimachinery ValidateAnnotations), HPA minReplicas >= 1 without HPAScaleToZero, the 400 for a JSON
 * patch body that is not a list (UNCONFIRMED wording), list items without apiVersion/kind.
 * Simplifications: see field-owners.ts (lists atomic) and cluster-simulator.ts (ReplicaSets implicit).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseYaml } from "yaml";
import { ApplyConflict, FieldOwners, type Owner } from "./field-owners.js";
import { clone, isObject, type Json, type JsonObject, str } from "./json.js";
import { meta, ObjectStore } from "./object-store.js";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patches.js";
import { PodNetwork } from "./pod-network.js";
import { podProxyTarget, proxyToPod } from "./pod-proxy.js";
import {
  apiVersionOf,
  applyDefaults,
  kindQualified,
  RESOURCES,
  type ResourceInfo,
  validate,
} from "./resources.js";
import { fieldMatcher, labelMatcher } from "./selectors.js";
import {
  ApiError,
  alreadyExists,
  applyConflict,
  badRequest,
  conflict,
  invalid,
  methodNotAllowed,
  notFound,
  notFoundPath,
  tooLarge,
  unauthorized,
  unprocessable,
  unsupportedMediaType,
} from "./status.js";
import { serveWatch, withType } from "./watch-stream.js";

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

/** One request as the server saw it, for assertions. */
export interface RequestRecord {
  readonly verb: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string;
  body: Json | null;
  /** The User-Agent up to its first "/": the default field manager of non-apply writes. */
  readonly userAgent: string;
  status: number;
}

/** Where a request is aimed, once routed. */
export interface Target {
  readonly info: ResourceInfo;
  readonly namespace: string;
  readonly name: string | null;
  readonly subresource: "status" | "scale" | null;
}

/** Runs before a request is handled; may change objects (to inject a concurrent writer) or throw an ApiError. */
export type RequestHook = (request: RequestRecord, target: Target) => void | Promise<void>;

export class StandInApiServer {
  readonly store = new ObjectStore();
  readonly requests: RequestRecord[] = [];
  readonly #token: string;
  readonly #owners = new Map<string, FieldOwners>();
  readonly #hooks = new Set<RequestHook>();
  readonly #server: Server;
  readonly #watches = new Set<ServerResponse>();
  /** Where pod IPs lead, for the pod proxy (simulated pods listen nowhere). */
  readonly #network: PodNetwork;

  constructor(token: string, network: PodNetwork = new PodNetwork()) {
    this.#token = token;
    this.#network = network;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.#watches) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  onRequest(hook: RequestHook): () => void {
    this.#hooks.add(hook);
    return () => this.#hooks.delete(hook);
  }

  info(plural: string): ResourceInfo {
    const info = RESOURCES.find((r) => r.plural === plural);
    if (!info) throw new Error(`the stand-in does not serve ${plural}`);
    return info;
  }

  /** The field managers of one field of one object, e.g. ("services", ns, "shop", ["spec", "selector"]). */
  managers(plural: string, namespace: string, name: string, path: readonly string[]): readonly Owner[] {
    return this.#owners.get(`${plural}/${namespace}/${name}`)?.managers(path) ?? [];
  }

  /**
   * A write by another client (a controller, the kubelet, a person with kubectl), as an Update by `manager`:
   * `change` edits a copy of the live object; status changes only land with `subresource: "status"`.
   */
  write(
    plural: string,
    namespace: string,
    name: string,
    manager: string,
    change: (object: JsonObject) => void,
    subresource: "status" | null = null,
  ): JsonObject | null {
    const info = this.info(plural);
    const live = this.store.get(plural, namespace, name);
    if (!live) return null;
    const next = clone(live);
    change(next);
    return this.#commitUpdate(
      info,
      namespace,
      live,
      subresource === "status" ? onlyStatus(live, next) : keepStatus(info, live, next),
      owner(manager, info, "Update"),
    );
  }

  /** A create by another client (the deployment controller creating pods). */
  createAs(plural: string, namespace: string, object: JsonObject, manager: string): JsonObject {
    const info = this.info(plural);
    convert(info, object);
    applyDefaults(info, object);
    const created = this.store.create(info, namespace, object);
    this.#fieldOwners(info, namespace, String(meta(created).name)).recordUpdate(
      null,
      created,
      owner(manager, info, "Update"),
    );
    return created;
  }

  deleteNow(plural: string, namespace: string, name: string): void {
    this.store.delete(this.info(plural), namespace, name);
    this.#owners.delete(`${plural}/${namespace}/${name}`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const record: RequestRecord = {
      verb: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "",
      body: null,
      userAgent: (req.headers["user-agent"] ?? "unknown").split("/")[0] ?? "unknown",
      status: 0,
    };
    this.requests.push(record);
    try {
      if (req.headers.authorization !== `Bearer ${this.#token}`) throw unauthorized();
      const proxied = podProxyTarget(url.pathname);
      if (proxied) {
        const context = { store: this.store, network: this.#network, search: url.search };
        record.status = await proxyToPod(req, res, proxied, context);
        return;
      }
      const text = await readBody(req);
      const target = route(url.pathname);
      record.body = text === "" ? null : parseBody(text, record.contentType);
      for (const hook of this.#hooks) await hook(record, target);
      const result = await this.#dispatch(req, res, record, target, url.searchParams);
      if (result === "streaming") {
        record.status = 200;
        return;
      }
      record.status = result.code;
      sendJson(res, result.code, result.body);
    } catch (error) {
      const api =
        error instanceof ApiError
          ? error
          : new ApiError(500, {
              kind: "Status",
              apiVersion: "v1",
              metadata: {},
              status: "Failure",
              message: String(error),
              reason: "InternalError",
              code: 500,
            });
      record.status = api.code;
      sendJson(res, api.code, api.body);
    }
  }

  async #dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    target: Target,
    query: URLSearchParams,
  ): Promise<{ code: number; body: JsonObject } | "streaming"> {
    const { info, namespace, name, subresource } = target;
    const verb = record.verb;
    if (name === null) {
      if (verb === "GET" && isWatch(query)) {
        this.#watches.add(res);
        serveWatch(
          this.store,
          {
            info,
            namespace,
            matches: matcher(query),
            resourceVersion: query.get("resourceVersion"),
            timeoutSeconds: numberParam(query, "timeoutSeconds"),
          },
          res,
          () => this.#watches.delete(res),
        );
        return "streaming";
      }
      if (verb === "GET") return { code: 200, body: this.#list(info, namespace, query) };
      if (verb === "POST")
        return { code: 201, body: withType(info, this.#create(info, namespace, record, query)) };
      throw methodNotAllowed(verb);
    }
    if (subresource === "scale") return this.#scale(target, record, query);
    if (verb === "GET") return { code: 200, body: withType(info, this.#get(info, namespace, name)) };
    if (verb === "PUT") return { code: 200, body: withType(info, this.#replace(target, record, query)) };
    if (verb === "PATCH") return this.#patch(target, record, query);
    if (verb === "DELETE") {
      const deleted = this.#get(info, namespace, name);
      this.deleteNow(info.plural, namespace, name);
      return { code: 200, body: withType(info, deleted) };
    }
    void req;
    throw methodNotAllowed(verb);
  }

  #get(info: ResourceInfo, namespace: string, name: string): JsonObject {
    const object = this.store.get(info.plural, namespace, name);
    if (!object) throw notFound(info, name);
    return object;
  }

  #list(info: ResourceInfo, namespace: string, query: URLSearchParams): JsonObject {
    const matches = matcher(query);
    return {
      kind: `${info.kind}List`,
      apiVersion: apiVersionOf(info),
      metadata: { resourceVersion: String(this.store.revision) },
      items: this.store.list(info.plural, namespace).filter(matches),
    };
  }

  #create(info: ResourceInfo, namespace: string, record: RequestRecord, query: URLSearchParams): JsonObject {
    const body = objectBody(record.body);
    const name = str(meta(body).name);
    const bodyNamespace = str(meta(body).namespace);
    if (bodyNamespace && bodyNamespace !== namespace)
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    delete meta(body).resourceVersion;
    const candidate = keepStatus(info, {}, body);
    convert(info, candidate);
    applyDefaults(info, candidate);
    this.#validate(info, candidate, null);
    if (name && this.store.get(info.plural, namespace, name)) throw alreadyExists(info, name);
    const created = this.store.create(info, namespace, candidate);
    this.#fieldOwners(info, namespace, String(name)).recordUpdate(
      null,
      created,
      owner(managerOf(query, record), info, "Update"),
    );
    return created;
  }

  #replace(target: Target, record: RequestRecord, query: URLSearchParams): JsonObject {
    const { info, namespace } = target;
    const name = target.name as string;
    const live = this.#get(info, namespace, name);
    const body = objectBody(record.body);
    if (str(meta(body).name) !== name)
      throw badRequest(
        `the name of the object (${String(meta(body).name)}) does not match the name on the URL (${name})`,
      );
    precondition(info, name, body, live);
    const next = target.subresource === "status" ? onlyStatus(live, body) : keepStatus(info, live, body);
    return this.#commitUpdate(info, namespace, live, next, owner(managerOf(query, record), info, "Update"));
  }

  #patch(target: Target, record: RequestRecord, query: URLSearchParams): { code: number; body: JsonObject } {
    const { info, namespace } = target;
    const name = target.name as string;
    const type = record.contentType;
    const known = Object.values(PATCH_TYPES) as string[];
    if (!known.includes(type)) throw unsupportedMediaType();
    const isApply = type === PATCH_TYPES.apply;
    if (query.has("force") && !isApply)
      throw invalid("PatchOptions.meta.k8s.io", "", { group: "meta.k8s.io", kind: "PatchOptions" }, [
        { field: "force", type: "Forbidden", detail: "may not be specified for non-apply patch" },
      ]);
    if (isApply && !query.get("fieldManager"))
      throw invalid("PatchOptions.meta.k8s.io", "", { group: "meta.k8s.io", kind: "PatchOptions" }, [
        { field: "fieldManager", type: "Required value", detail: "is required for apply patch" },
      ]);
    const live = this.store.get(info.plural, namespace, name);
    if (isApply) return this.#apply(target, live, record, query);
    if (!live) throw notFound(info, name);
    const patched = patchWith(type, live, record.body);
    precondition(info, name, patched, live);
    const next =
      target.subresource === "status" ? onlyStatus(live, patched) : keepStatus(info, live, patched);
    return {
      code: 200,
      body: withType(
        info,
        this.#commitUpdate(info, namespace, live, next, owner(managerOf(query, record), info, "Update")),
      ),
    };
  }

  #apply(
    target: Target,
    live: JsonObject | null,
    record: RequestRecord,
    query: URLSearchParams,
  ): { code: number; body: JsonObject } {
    const { info, namespace } = target;
    const name = target.name as string;
    const applied = objectBody(record.body);
    const expected = apiVersionOf(info);
    if (applied.apiVersion !== expected)
      throw badRequest(
        `the API version in the data (${String(applied.apiVersion)}) does not match the expected API version (${expected})`,
      );
    if (applied.kind !== info.kind)
      throw badRequest(
        `the kind in the data (${String(applied.kind)}) does not match the expected kind (${info.kind})`,
      );
    if (str(meta(applied).name) !== name)
      throw badRequest(
        `the name of the object (${String(meta(applied).name)}) does not match the name on the URL (${name})`,
      );
    const manager = owner(String(query.get("fieldManager")), info, "Apply");
    const force = query.get("force") === "true";
    const owners = this.#fieldOwners(info, namespace, name);
    if (!live) {
      const candidate = owners.apply({ metadata: { name } }, applied, manager, force);
      convert(info, candidate);
      applyDefaults(info, candidate);
      this.#validate(info, candidate, null);
      return { code: 201, body: withType(info, this.store.create(info, namespace, candidate)) };
    }
    precondition(info, name, applied, live);
    let merged: JsonObject;
    try {
      merged = owners.apply(live, applied, manager, force);
    } catch (error) {
      if (!(error instanceof ApplyConflict)) throw error;
      throw applyConflict(
        error.message,
        error.conflicts.map((c) => ({
          message: `conflict with "${c.owner.manager}"${c.owner.operation === "Update" ? ` using ${c.owner.apiVersion}` : ""}`,
          field: c.path,
        })),
      );
    }
    const next = target.subresource === "status" ? onlyStatus(live, merged) : keepStatus(info, live, merged);
    convert(info, next);
    applyDefaults(info, next);
    this.#validate(info, next, live);
    return { code: 200, body: withType(info, this.store.update(info, namespace, live, next)) };
  }

  /** deployments/{name}/scale: an autoscaling/v1 Scale view of spec.replicas ([DSTORE]). */
  #scale(target: Target, record: RequestRecord, query: URLSearchParams): { code: number; body: JsonObject } {
    const { info, namespace } = target;
    const name = target.name as string;
    if (info.plural !== "deployments") throw notFoundPath(record.path);
    const live = this.#get(info, namespace, name);
    if (record.verb === "GET") return { code: 200, body: scaleOf(live) };
    if (record.verb !== "PATCH" && record.verb !== "PUT") throw methodNotAllowed(record.verb);
    let scale: JsonObject;
    if (record.verb === "PUT") scale = objectBody(record.body);
    else {
      const type = record.contentType;
      if (!(Object.values(PATCH_TYPES) as string[]).includes(type)) throw unsupportedMediaType();
      if (type === PATCH_TYPES.apply && !query.get("fieldManager"))
        throw invalid("PatchOptions.meta.k8s.io", "", { group: "meta.k8s.io", kind: "PatchOptions" }, [
          { field: "fieldManager", type: "Required value", detail: "is required for apply patch" },
        ]);
      scale = patchWith(
        type === PATCH_TYPES.apply ? PATCH_TYPES.merge : type,
        scaleOf(live),
        record.body,
      ) as JsonObject;
    }
    const rv = str(meta(scale).resourceVersion);
    if (rv && rv !== meta(live).resourceVersion) throw conflict(info, name);
    const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
    const next = clone(live);
    (next.spec as JsonObject).replicas = typeof replicas === "number" ? replicas : 0;
    const stored = this.#commitUpdate(
      info,
      namespace,
      live,
      next,
      owner(managerOf(query, record), info, "Update"),
    );
    return { code: 200, body: scaleOf(stored) };
  }

  #commitUpdate(
    info: ResourceInfo,
    namespace: string,
    live: JsonObject,
    next: JsonObject,
    by: Owner,
  ): JsonObject {
    convert(info, next);
    applyDefaults(info, next);
    this.#validate(info, next, live);
    const name = String(meta(live).name);
    const stored = this.store.update(info, namespace, live, next);
    this.#fieldOwners(info, namespace, name).recordUpdate(live, stored, by);
    return stored;
  }

  #validate(info: ResourceInfo, object: JsonObject, old: JsonObject | null): void {
    const causes = validate(info, object, old);
    if (causes.length > 0)
      throw invalid(
        kindQualified(info),
        String(meta(object).name ?? ""),
        { group: info.group, kind: info.kind },
        causes,
      );
  }

  #fieldOwners(info: ResourceInfo, namespace: string, name: string): FieldOwners {
    const key = `${info.plural}/${namespace}/${name}`;
    let owners = this.#owners.get(key);
    if (!owners) {
      owners = new FieldOwners(info.plural);
      this.#owners.set(key, owners);
    }
    return owners;
  }
}

function route(path: string): Target {
  const parts = path.split("/").filter(Boolean);
  let rest: string[];
  let group = "";
  let version: string;
  if (parts[0] === "api" && parts[1] === "v1") {
    version = "v1";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else throw notFoundPath(path);
  if (rest[0] !== "namespaces" || rest.length < 3) throw notFoundPath(path);
  const [, namespace, plural, name, subresource] = rest as [string, string, string, string?, string?];
  const info = RESOURCES.find((r) => r.plural === plural && r.group === group && r.version === version);
  if (!info || rest.length > 5) throw notFoundPath(path);
  if (subresource !== undefined && !(info.subresources as readonly string[]).includes(subresource))
    throw notFoundPath(path);
  return { info, namespace, name: name ?? null, subresource: (subresource as Target["subresource"]) ?? null };
}

function patchWith(type: string, live: JsonObject, body: Json | null): JsonObject {
  try {
    const result =
      type === PATCH_TYPES.merge
        ? mergePatch(live, body)
        : type === PATCH_TYPES.strategic
          ? strategicMergePatch(live, body)
          : jsonPatch(live, body);
    if (!isObject(result))
      throw unprocessable("the server rejected our request due to an error in our request");
    return result;
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    if (error.code === 413) throw tooLarge(error.message);
    if (error.code === 400) throw badRequest(error.message);
    throw unprocessable(error.message);
  }
}

/**
 * The conversion to the stored form: a Secret's stringData is merged into data, base64-encoded, and never
 * stored or returned ([CORE] Secret: "stringData … is never output when reading from the API").
 */
function convert(info: ResourceInfo, object: JsonObject): void {
  if (info.plural !== "secrets" || !isObject(object.stringData)) return;
  const data = isObject(object.data) ? object.data : {};
  for (const [key, value] of Object.entries(object.stringData))
    data[key] = Buffer.from(String(value), "utf8").toString("base64");
  object.data = data;
  delete object.stringData;
}

/** A resourceVersion in the body that is not the stored one → 409 ([STORE] Update). */
function precondition(info: ResourceInfo, name: string, body: JsonObject, live: JsonObject): void {
  const rv = str(meta(body).resourceVersion);
  if (rv !== undefined && rv !== "" && rv !== meta(live).resourceVersion) throw conflict(info, name);
}

/** The main resource ignores status changes ([DSTRAT]); ConfigMaps have no status. */
function keepStatus(info: ResourceInfo, live: JsonObject, next: JsonObject): JsonObject {
  const result = clone(next);
  if (info.subresources.includes("status")) {
    if (live.status === undefined) delete result.status;
    else result.status = clone(live.status);
  }
  return result;
}

/** /status takes only status ([DSTRAT], [PSTRAT]). */
function onlyStatus(live: JsonObject, next: JsonObject): JsonObject {
  const result = clone(live);
  result.status = clone(next.status ?? {});
  meta(result).resourceVersion = meta(next).resourceVersion ?? meta(live).resourceVersion ?? null;
  return result;
}

function scaleOf(deployment: JsonObject): JsonObject {
  const m = meta(deployment);
  const spec = isObject(deployment.spec) ? deployment.spec : {};
  const status = isObject(deployment.status) ? deployment.status : {};
  const labels =
    isObject(spec.selector) && isObject(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: m.name ?? null,
      namespace: m.namespace ?? null,
      uid: m.uid ?? null,
      resourceVersion: m.resourceVersion ?? null,
      creationTimestamp: m.creationTimestamp ?? null,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      selector: Object.entries(labels)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(","),
    },
  };
}

const owner = (manager: string, info: ResourceInfo, operation: Owner["operation"]): Owner => ({
  manager,
  operation,
  apiVersion: apiVersionOf(info),
});

/** `?fieldManager`, else the User-Agent up to the first "/" ([PATCH create.go]). */
function managerOf(query: URLSearchParams, record: RequestRecord): string {
  return query.get("fieldManager") ?? record.userAgent;
}

function isWatch(query: URLSearchParams): boolean {
  if (!query.has("watch")) return false;
  const value = query.get("watch");
  return value === "" || value === "1" || value === "true";
}

function matcher(query: URLSearchParams) {
  const labels = labelMatcher(query.get("labelSelector"));
  const fields = fieldMatcher(query.get("fieldSelector"));
  return (object: JsonObject) => labels(object) && fields(object);
}

function numberParam(query: URLSearchParams, name: string): number | null {
  const value = query.get(name);
  return value === null ? null : Number(value);
}

function parseBody(text: string, contentType: string): Json {
  try {
    return contentType === PATCH_TYPES.apply || contentType.includes("yaml")
      ? (parseYaml(text) as Json)
      : (JSON.parse(text) as Json);
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

function objectBody(body: Json | null): JsonObject {
  if (!isObject(body)) throw badRequest("the body of the request was not an object");
  return clone(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, code: number, body: JsonObject): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
