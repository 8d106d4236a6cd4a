import type { V1Pod } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { ReplicaState, ReplicaStatus } from "../../engine/ports/platform.js";
import { ANNOTATIONS } from "./manifest-names.js";
import { condition } from "./rollout-status.js";

/** A pod as the engine's ReplicaStatus: its name, IP, state, restarts and the last thing that went wrong. */
export function replicaStatus(pod: V1Pod, colour: Colour, index: number, port: number): ReplicaStatus {
  const name = pod.metadata?.name ?? "?";
  const ready = condition(pod, "Ready") === "True";
  return {
    id: name,
    colour,
    index,
    version: pod.metadata?.annotations?.[ANNOTATIONS.version] ?? "",
    host: pod.status?.podIP ?? "",
    port,
    pid: null,
    state: podState(pod, ready),
    ready,
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
    lastProblem: ready ? null : problem(pod),
    logFile: `kubectl logs -n ${pod.metadata?.namespace ?? "default"} ${name}`,
  };
}

function podState(pod: V1Pod, ready: boolean): ReplicaState {
  if (pod.metadata?.deletionTimestamp) return "stopping";
  if (pod.status?.phase === "Failed") return "crashed";
  if (pod.status?.phase === "Succeeded") return "stopped";
  const waiting = (pod.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason);
  if (
    waiting.includes("CrashLoopBackOff") ||
    waiting.includes("ImagePullBackOff") ||
    waiting.includes("ErrImagePull")
  )
    return "crashed";
  if (ready) return "ready";
  const started = (pod.status?.containerStatuses ?? []).some((c) => c.state?.running);
  return pod.status?.phase === "Pending" || !started ? "starting" : "unready";
}

/** The most telling problem: a waiting container's reason, its last exit, else the Ready condition's message. */
function problem(pod: V1Pod): string | null {
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && waiting.reason !== "ContainerCreating")
      return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
    const last = c.lastState?.terminated;
    if (last) return `last exit ${last.exitCode}${last.reason ? ` (${last.reason})` : ""}`;
  }
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.message) return `${ready.reason ?? "NotReady"}: ${ready.message}`;
  if (ready?.reason) return ready.reason;
  return pod.status?.phase === "Pending" ? "Pending" : null;
}
