/**
 * The resources the driver touches, with the defaults and validation rules it can run into
 * ([APPS] defaults, [DSTRAT] / [SVC] strategies, apimachinery ValidateObjectMeta). Only rules a driver
 * can trip are checked; everything else is accepted as it is.
 */
import { isObject, type Json, type JsonObject, num, str } from "./json.js";
import type { Cause } from "./status.js";

export interface ResourceInfo {
  readonly plural: string;
  readonly kind: string;
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** metadata.generation is kept and bumped on spec changes ([DSTRAT]: for Deployments also on annotations). */
  readonly generation: "none" | "spec" | "spec+annotations";
  readonly subresources: readonly ("status" | "scale")[];
}

export const RESOURCES: readonly ResourceInfo[] = [
  {
    plural: "services",
    kind: "Service",
    group: "",
    version: "v1",
    generation: "none",
    subresources: ["status"],
  },
  { plural: "pods", kind: "Pod", group: "", version: "v1", generation: "none", subresources: ["status"] },
  { plural: "configmaps", kind: "ConfigMap", group: "", version: "v1", generation: "none", subresources: [] },
  { plural: "secrets", kind: "Secret", group: "", version: "v1", generation: "none", subresources: [] },
  {
    plural: "serviceaccounts",
    kind: "ServiceAccount",
    group: "",
    version: "v1",
    generation: "none",
    subresources: [],
  },
  {
    plural: "deployments",
    kind: "Deployment",
    group: "apps",
    version: "v1",
    generation: "spec+annotations",
    subresources: ["status", "scale"],
  },
  {
    plural: "horizontalpodautoscalers",
    kind: "HorizontalPodAutoscaler",
    group: "autoscaling",
    version: "v2",
    generation: "spec",
    subresources: ["status"],
  },
  {
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    group: "policy",
    version: "v1",
    generation: "spec",
    subresources: ["status"],
  },
  {
    plural: "leases",
    kind: "Lease",
    group: "coordination.k8s.io",
    version: "v1",
    generation: "none",
    subresources: [],
  },
  {
    plural: "roles",
    kind: "Role",
    group: "rbac.authorization.k8s.io",
    version: "v1",
    generation: "none",
    subresources: [],
  },
  {
    plural: "rolebindings",
    kind: "RoleBinding",
    group: "rbac.authorization.k8s.io",
    version: "v1",
    generation: "none",
    subresources: [],
  },
];

export const apiVersionOf = (info: ResourceInfo) =>
  info.group ? `${info.group}/${info.version}` : info.version;
export const kindQualified = (info: ResourceInfo) => (info.group ? `${info.kind}.${info.group}` : info.kind);

/** Server-side defaults on create and update ([APPS] defaults: replicas 1, 25% / 25%, deadline 600 s). */
export function applyDefaults(info: ResourceInfo, object: JsonObject): void {
  const spec = isObject(object.spec) ? object.spec : undefined;
  if (info.plural === "deployments" && spec) {
    spec.replicas ??= 1;
    spec.progressDeadlineSeconds ??= 600;
    spec.revisionHistoryLimit ??= 10;
    spec.minReadySeconds ??= 0;
    if (!isObject(spec.strategy)) spec.strategy = { type: "RollingUpdate" };
    const strategy = spec.strategy as JsonObject;
    if (strategy.type === "RollingUpdate") {
      const rolling = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
      rolling.maxSurge ??= "25%";
      rolling.maxUnavailable ??= "25%";
      strategy.rollingUpdate = rolling;
    }
  }
  if (info.plural === "services" && spec) {
    spec.type ??= "ClusterIP";
    spec.sessionAffinity ??= "None";
    spec.clusterIP ??= `10.96.0.${10 + (Math.abs(hash(str(getName(object)) ?? "")) % 200)}`;
  }
  if (info.plural === "horizontalpodautoscalers" && spec) spec.minReplicas ??= 1;
}

const getName = (object: JsonObject): Json | undefined =>
  isObject(object.metadata) ? object.metadata.name : undefined;

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** The validation causes for `object` (and `old`, on update); empty when valid. */
export function validate(info: ResourceInfo, object: JsonObject, old: JsonObject | null): Cause[] {
  const causes: Cause[] = [];
  const metadata = isObject(object.metadata) ? object.metadata : {};
  if (!str(metadata.name))
    causes.push({
      field: "metadata.name",
      type: "Required value",
      detail: "name or generateName is required",
    });
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const size = Object.entries(annotations).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
  if (size > TOTAL_ANNOTATION_SIZE) {
    causes.push({
      field: "metadata.annotations",
      type: "Too long",
      detail: `must have at most ${TOTAL_ANNOTATION_SIZE} bytes`,
    });
  }
  const spec = isObject(object.spec) ? object.spec : {};
  if (info.plural === "deployments") causes.push(...validateDeployment(spec, old));
  if (info.plural === "horizontalpodautoscalers") causes.push(...validateAutoscaler(spec));
  if (info.plural === "services") causes.push(...validateService(spec));
  return causes;
}

function goMap(value: Json | undefined): string {
  if (!isObject(value)) return "nil";
  return `map[${Object.entries(value)
    .map(([k, v]) => `${k}:${String(v)}`)
    .join(" ")}]`;
}

function validateDeployment(spec: JsonObject, old: JsonObject | null): Cause[] {
  const causes: Cause[] = [];
  const selector = isObject(spec.selector) ? spec.selector : undefined;
  const matchLabels = selector && isObject(selector.matchLabels) ? selector.matchLabels : undefined;
  if (!matchLabels) causes.push({ field: "spec.selector", type: "Required value", detail: "" });
  const template = isObject(spec.template) ? spec.template : {};
  const labels =
    isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {};
  if (matchLabels && !Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) {
    causes.push({
      field: "spec.template.metadata.labels",
      type: "Invalid value",
      value: goMap(labels),
      detail: "`selector` does not match template `labels`",
    });
  }
  const oldSpec = old && isObject(old.spec) ? old.spec : undefined;
  if (oldSpec && JSON.stringify(oldSpec.selector) !== JSON.stringify(spec.selector)) {
    causes.push({
      field: "spec.selector",
      type: "Invalid value",
      value: `v1.LabelSelector{MatchLabels:${goMap(matchLabels)}}`,
      detail: "field is immutable",
    });
  }
  const replicas = num(spec.replicas);
  if (replicas !== undefined && replicas < 0) {
    causes.push({
      field: "spec.replicas",
      type: "Invalid value",
      value: String(replicas),
      detail: "must be greater than or equal to 0",
    });
  }
  const podSpec = isObject(template.spec) ? template.spec : {};
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  if (containers.length === 0)
    causes.push({ field: "spec.template.spec.containers", type: "Required value", detail: "" });
  containers.forEach((c, i) => {
    if (!isObject(c) || !str(c.image))
      causes.push({ field: `spec.template.spec.containers[${i}].image`, type: "Required value", detail: "" });
  });
  return causes;
}

function validateAutoscaler(spec: JsonObject): Cause[] {
  const causes: Cause[] = [];
  const min = num(spec.minReplicas) ?? 1;
  const max = num(spec.maxReplicas);
  if (min < 1)
    causes.push({
      field: "spec.minReplicas",
      type: "Invalid value",
      value: String(min),
      detail: "must be greater than or equal to 1",
    });
  if (max === undefined || max < min) {
    causes.push({
      field: "spec.maxReplicas",
      type: "Invalid value",
      value: String(max ?? 0),
      detail: "must be greater than or equal to `minReplicas`",
    });
  }
  return causes;
}

function validateService(spec: JsonObject): Cause[] {
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && spec.type !== "ExternalName")
    return [{ field: "spec.ports", type: "Required value", detail: "" }];
  return ports.flatMap((p, i) => {
    const port = isObject(p) ? num(p.port) : undefined;
    return port === undefined || port < 1 || port > 65535
      ? [
          {
            field: `spec.ports[${i}].port`,
            type: "Invalid value" as const,
            value: String(port ?? 0),
            detail: "must be between 1 and 65535, inclusive",
          },
        ]
      : [];
  });
}
