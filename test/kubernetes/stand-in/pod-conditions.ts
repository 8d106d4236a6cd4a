/**
 * The pod conditions a kubelet writes, shared by the simulated kubelet and the one that runs processes:
 * PodScheduled, Initialized, ContainersReady and Ready, where Ready needs every container ready **and**
 * every readiness gate condition "True", with the two gate messages of [GEN] (§6 of
 * shared/reference/kubernetes-api.md). Conditions set by others (the gates) are kept as they are;
 * lastTransitionTime moves only when a status does.
 */
import { isObject, type JsonObject } from "./json.js";
import { seconds } from "./object-store.js";

export function isReady(pod: JsonObject): boolean {
  const status = isObject(pod.status) ? pod.status : {};
  return findCondition(status, "Ready")?.status === "True";
}

export function findCondition(status: JsonObject, type: string): JsonObject | undefined {
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.find((c): c is JsonObject => isObject(c) && c.type === type);
}

/** A pod condition; lastTransitionTime only moves when the status does. */
export function cond(
  previous: JsonObject,
  type: string,
  status: string,
  why?: { reason: string; message: string },
): JsonObject {
  const before = findCondition(previous, type);
  const since = before && before.status === status ? before.lastTransitionTime : seconds(new Date());
  return { type, status, lastProbeTime: null, lastTransitionTime: since ?? null, ...(why ?? {}) };
}

export function readinessGates(pod: JsonObject): string[] {
  const gates = isObject(pod.spec) && Array.isArray(pod.spec.readinessGates) ? pod.spec.readinessGates : [];
  return gates.flatMap((g) => (isObject(g) && typeof g.conditionType === "string" ? [g.conditionType] : []));
}

/** [GEN]: the two messages of a gate that holds Ready back; null when the gate is open. */
export function gateMessage(status: JsonObject, gate: string): string | null {
  const c = findCondition(status, gate);
  if (!c) return `corresponding condition of pod readiness gate "${gate}" does not exist.`;
  if (c.status !== "True")
    return `the status of pod readiness gate "${gate}" is not "True", but ${String(c.status)}`;
  return null;
}

const OWN = new Set(["PodScheduled", "Initialized", "ContainersReady", "Ready"]);

/**
 * The conditions of a started pod ([GEN]): unready containers → Ready copies ContainersReady
 * (ContainersNotReady); ready containers and a closed gate → Ready False, ReadinessGatesNotReady.
 */
export function podConditions(pod: JsonObject, containersReady: boolean, container: string): JsonObject[] {
  const previous = isObject(pod.status) ? pod.status : {};
  const unready = {
    reason: "ContainersNotReady",
    message: `containers with unready status: [${container}]`,
  };
  const gateProblem = containersReady
    ? (readinessGates(pod)
        .map((g) => gateMessage(previous, g))
        .find((m) => m !== null) ?? null)
    : null;
  const podReady = containersReady && gateProblem === null;
  const why = podReady
    ? undefined
    : containersReady
      ? { reason: "ReadinessGatesNotReady", message: gateProblem ?? "" }
      : unready;
  const others = (Array.isArray(previous.conditions) ? previous.conditions : []).filter(
    (c): c is JsonObject => isObject(c) && !OWN.has(String(c.type)),
  );
  return [
    cond(previous, "PodScheduled", "True"),
    cond(previous, "Initialized", "True"),
    cond(
      previous,
      "ContainersReady",
      containersReady ? "True" : "False",
      containersReady ? undefined : unready,
    ),
    cond(previous, "Ready", podReady ? "True" : "False", why),
    ...others,
  ];
}
