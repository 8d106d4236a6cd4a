import type { V1Affinity } from "@kubernetes/client-node";

/** Prefers to put the pods that `labels` select on different nodes, so one node's loss takes only one. */
export function spreadAcrossNodes(labels: Readonly<Record<string, string>>): V1Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: { ...labels } },
          },
        },
      ],
    },
  };
}
