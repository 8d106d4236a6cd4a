import type { V1Pod } from "@kubernetes/client-node";
import { isNotFound, type KubeClients, patchAs } from "./kube-clients.js";
import { ANNOTATIONS, FIELD_MANAGER, READINESS_GATE } from "./manifest-names.js";

/**
 * Sets the readiness-gate condition True on the pods of `version` that do not have it yet, as a gate
 * controller does: PATCH pods/{name}/status with a strategic merge, which merges status.conditions by
 * type (a merge patch would replace the list). The kubelet then computes Ready. Returns how many it set.
 */
export async function openGates(
  clients: KubeClients,
  pods: readonly V1Pod[],
  version: string,
): Promise<number> {
  const closed = pods.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.metadata?.annotations?.[ANNOTATIONS.version] === version &&
      p.status?.conditions?.find((c) => c.type === READINESS_GATE)?.status !== "True",
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const condition = {
    type: READINESS_GATE,
    status: "True",
    reason: "PreSwitchChecksPassed",
    message: `cutover's pre-switch checks passed for ${version}`,
    lastTransitionTime: now,
  };
  let opened = 0;
  for (const pod of closed) {
    const name = pod.metadata?.name ?? "";
    try {
      await clients.core.patchNamespacedPodStatus(
        {
          name,
          namespace: clients.namespace,
          body: { status: { conditions: [condition] } },
          fieldManager: FIELD_MANAGER,
        },
        patchAs.strategic(),
      );
      opened += 1;
    } catch (error) {
      if (!isNotFound(error)) throw error; // the pod went away meanwhile
    }
  }
  return opened;
}
