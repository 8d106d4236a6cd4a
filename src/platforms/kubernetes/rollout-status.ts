import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { ANNOTATIONS } from "./manifest-names.js";

export type RolloutVerdict =
  | { readonly state: "done"; readonly message: string }
  | { readonly state: "waiting"; readonly message: string }
  | { readonly state: "failed"; readonly message: string };

/**
 * `kubectl rollout status` for a Deployment, check for check and message for message
 * (kubectl pkg/polymorphichelpers/rollout_status.go): the spec must be observed, then the progress
 * deadline, updated, old and available replicas. readyReplicas and the Available condition are not read.
 */
export function rolloutVerdict(deployment: V1Deployment): RolloutVerdict {
  const name = deployment.metadata?.name ?? "?";
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { state: "waiting", message: "Waiting for deployment spec update to be observed..." };
  }
  const progressing = status.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return { state: "failed", message: `deployment "${name}" exceeded its progress deadline` };
  }
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const head = `Waiting for deployment "${name}" rollout to finish:`;
  if (updated < wanted) {
    return {
      state: "waiting",
      message: `${head} ${updated} out of ${wanted} new replicas have been updated...`,
    };
  }
  if (replicas > updated) {
    return {
      state: "waiting",
      message: `${head} ${replicas - updated} old replicas are pending termination...`,
    };
  }
  if (available < updated) {
    return {
      state: "waiting",
      message: `${head} ${available} of ${updated} updated replicas are available...`,
    };
  }
  return { state: "done", message: `deployment "${name}" successfully rolled out` };
}

/**
 * With the readiness gate on, pods become Ready (and so available) only once cutover opens the gate, after
 * the pre-switch checks. Before that, "rolled out" means: the rules above up to the available check, then
 * every pod of the new version has its containers ready (condition ContainersReady).
 */
export function gatedRolloutVerdict(deployment: V1Deployment, pods: readonly V1Pod[]): RolloutVerdict {
  const verdict = rolloutVerdict(deployment);
  if (verdict.state !== "waiting" || !verdict.message.includes("updated replicas are available"))
    return verdict;
  const version = deployment.spec?.template.metadata?.annotations?.[ANNOTATIONS.version];
  const current = pods.filter(
    (p) => !p.metadata?.deletionTimestamp && p.metadata?.annotations?.[ANNOTATIONS.version] === version,
  );
  const wanted = deployment.spec?.replicas ?? 1;
  const containersReady = current.filter((p) => condition(p, "ContainersReady") === "True").length;
  if (containersReady >= wanted) {
    return {
      state: "done",
      message: `deployment "${deployment.metadata?.name}" rolled out; ${containersReady} pod(s) wait for the readiness gate`,
    };
  }
  return {
    state: "waiting",
    message: `Waiting for deployment "${deployment.metadata?.name}" rollout to finish: ${containersReady} of ${wanted} new pods have ready containers...`,
  };
}

export function condition(pod: V1Pod, type: string): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === type)?.status;
}
