/**
 * The environment the kubelet gives a container (kubelet_pods.go makeEnvironmentVariables; the API is
 * EnvVar / EnvFromSource in [CORE]): first every `envFrom` source in order (a ConfigMap's `data`, a
 * Secret's base64 `data` decoded, each key behind the source's `prefix`), then `env` in order, where a
 * later name replaces an earlier one. `env` values expand `$(NAME)` from the names defined before them
 * (`$$` escapes, an unknown reference stays as written); `valueFrom` reads a `secretKeyRef`, a
 * `configMapKeyRef` or a `fieldRef` (metadata.name / namespace / uid / labels['k'] / annotations['k'],
 * spec.nodeName, spec.serviceAccountName, status.podIP / podIPs, status.hostIP / hostIPs).
 *
 * A Secret or ConfigMap that does not exist, or a key that is not in it, and is not `optional`, stops the
 * container from being created: the kubelet reports CreateContainerConfigError with the message below
 * and tries again on its next sync. Not copied: resourceFieldRef, the Service variables
 * (FOO_SERVICE_HOST) and the dropping of envFrom keys that are not valid variable names.
 */
import type { StandInApiServer } from "./api-server.js";
import { isObject, type Json, type JsonObject, str } from "./json.js";
import { meta, nameOf } from "./object-store.js";

/** A Secret or ConfigMap (or one of its keys) that a container needs is missing. */
export class ContainerConfigError extends Error {}

export interface EnvContext {
  readonly server: StandInApiServer;
  readonly pod: JsonObject;
  readonly container: JsonObject;
  /** The pod's IP (status.podIP) and the node's (status.hostIP). */
  readonly podIP: string;
  readonly hostIP: string;
}

export function containerEnv(context: EnvContext): Record<string, string> {
  const env: Record<string, string> = {};
  const fromSources = Array.isArray(context.container.envFrom) ? context.container.envFrom : [];
  for (const source of fromSources) if (isObject(source)) Object.assign(env, envFromSource(context, source));
  const vars = Array.isArray(context.container.env) ? context.container.env : [];
  for (const entry of vars) {
    if (!isObject(entry) || !str(entry.name)) continue;
    const value = entryValue(context, entry, env);
    if (value !== null) env[String(entry.name)] = value;
  }
  return env;
}

function envFromSource(context: EnvContext, source: JsonObject): Record<string, string> {
  const prefix = str(source.prefix) ?? "";
  const secret = isObject(source.secretRef) ? source.secretRef : null;
  const ref = secret ?? (isObject(source.configMapRef) ? source.configMapRef : null);
  if (!ref) return {};
  const data = dataOf(context, secret ? "secrets" : "configmaps", String(ref.name), ref.optional === true);
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** The value of one `env` entry; null for an optional reference that is missing (the variable is left out). */
function entryValue(context: EnvContext, entry: JsonObject, defined: Record<string, string>): string | null {
  if (!isObject(entry.valueFrom)) return expand(str(entry.value) ?? "", defined);
  const from = entry.valueFrom;
  if (isObject(from.secretKeyRef)) return keyValue(context, "secrets", from.secretKeyRef);
  if (isObject(from.configMapKeyRef)) return keyValue(context, "configmaps", from.configMapKeyRef);
  if (isObject(from.fieldRef)) return fieldValue(context, String(from.fieldRef.fieldPath ?? ""));
  return "";
}

function keyValue(context: EnvContext, plural: "secrets" | "configmaps", ref: JsonObject): string | null {
  const name = String(ref.name ?? "");
  const key = String(ref.key ?? "");
  const optional = ref.optional === true;
  const data = dataOf(context, plural, name, optional);
  if (data === null) return null;
  const value = data[key];
  if (value !== undefined) return value;
  if (optional) return null;
  const kind = plural === "secrets" ? "Secret" : "ConfigMap";
  throw new ContainerConfigError(`couldn't find key ${key} in ${kind} ${namespaceOf(context)}/${name}`);
}

/** A Secret's data (decoded) or a ConfigMap's; null when it is missing and optional. */
function dataOf(
  context: EnvContext,
  plural: "secrets" | "configmaps",
  name: string,
  optional: boolean,
): Record<string, string> | null {
  const object = context.server.store.get(plural, namespaceOf(context), name);
  if (!object) {
    if (optional) return null;
    throw new ContainerConfigError(`${plural === "secrets" ? "secret" : "configmap"} "${name}" not found`);
  }
  const data = isObject(object.data) ? object.data : {};
  const decode = (v: Json) =>
    plural === "secrets" ? Buffer.from(String(v), "base64").toString("utf8") : String(v);
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, decode(v)]));
}

function fieldValue(context: EnvContext, path: string): string {
  const m = meta(context.pod);
  const spec = isObject(context.pod.spec) ? context.pod.spec : {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) {
    const map = m[keyed[1] as string];
    return isObject(map) ? (str(map[keyed[2] as string]) ?? "") : "";
  }
  const fields: Record<string, string> = {
    "metadata.name": nameOf(context.pod),
    "metadata.namespace": namespaceOf(context),
    "metadata.uid": str(m.uid) ?? "",
    "spec.nodeName": str(spec.nodeName) ?? "",
    "spec.serviceAccountName": str(spec.serviceAccountName) ?? "default",
    "status.podIP": context.podIP,
    "status.podIPs": context.podIP,
    "status.hostIP": context.hostIP,
    "status.hostIPs": context.hostIP,
  };
  return fields[path] ?? "";
}

/** `$(NAME)` from the names defined so far; `$$` is a literal `$`; an unknown reference stays as written. */
function expand(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) =>
    match === "$$" ? "$" : name !== undefined && name in defined ? (defined[name] as string) : match,
  );
}

const namespaceOf = (context: EnvContext) => String(meta(context.pod).namespace ?? "");
