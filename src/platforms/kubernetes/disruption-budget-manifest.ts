import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import { colourLabels, MANAGED_BY, names } from "./manifest-names.js";

/** One colour's PodDisruptionBudget (policy/v1), or null when `disruptionBudget` is null. */
export function disruptionBudgetManifest(
  service: string,
  kube: KubernetesConfig,
  colour: Colour,
): V1PodDisruptionBudget | null {
  if (kube.disruptionBudget === null) return null;
  const labels = colourLabels(service, colour);
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: {
      name: names.disruptionBudget(service, colour),
      namespace: kube.namespace,
      labels: { ...labels, ...MANAGED_BY },
    },
    spec: { selector: { matchLabels: labels }, ...kube.disruptionBudget },
  };
}
