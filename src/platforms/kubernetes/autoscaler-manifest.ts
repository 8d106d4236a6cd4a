import type { V2HorizontalPodAutoscaler, V2HPAScalingRules, V2MetricSpec } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { AutoscalingConfig, KubernetesConfig } from "../../config/kubernetes-schema.js";
import { colourLabels, MANAGED_BY, names } from "./manifest-names.js";

/** The HPA minimum of the live colour: `autoscaling.minReplicas`, or `replicas`. */
export function liveMinimum(autoscaling: AutoscalingConfig, replicas: number): number {
  return Math.min(autoscaling.maxReplicas, autoscaling.minReplicas ?? replicas);
}

/**
 * The HPA minimum of an idle colour scaled to `warm` replicas. minReplicas must be at least 1 (0 needs the
 * HPAScaleToZero feature gate); with 0 replicas the HPA leaves the Deployment alone ("ScalingDisabled"),
 * so 1 is the floor that keeps it at zero.
 */
export function idleMinimum(warm: number): number {
  return Math.max(1, warm);
}

/** One colour's HorizontalPodAutoscaler (autoscaling/v2), or null when `autoscaling` is not configured. */
export function autoscalerManifest(
  service: string,
  kube: KubernetesConfig,
  colour: Colour,
  minReplicas: number,
): V2HorizontalPodAutoscaler | null {
  const a = kube.autoscaling;
  if (!a) return null;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name: names.autoscaler(service, colour),
      namespace: kube.namespace,
      labels: { ...colourLabels(service, colour), ...MANAGED_BY },
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.deployment(service, colour) },
      minReplicas: Math.min(minReplicas, a.maxReplicas),
      maxReplicas: a.maxReplicas,
      metrics: metrics(a),
      behavior: { scaleUp: rules(a.scaleUp), scaleDown: rules(a.scaleDown) },
    },
  };
}

function metrics(a: AutoscalingConfig): V2MetricSpec[] {
  const targets = [
    ["cpu", a.cpu],
    ["memory", a.memory],
  ] as const;
  return targets.flatMap(([name, utilization]) =>
    utilization === null
      ? []
      : [
          {
            type: "Resource",
            resource: { name, target: { type: "Utilization", averageUtilization: utilization } },
          },
        ],
  );
}

function rules(r: AutoscalingConfig["scaleUp"]): V2HPAScalingRules {
  const periodSeconds = Math.min(1800, Math.max(1, Math.round(r.period / 1000)));
  return {
    stabilizationWindowSeconds: Math.min(3600, Math.round(r.stabilizationWindow / 1000)),
    selectPolicy: "Max",
    policies: [
      { type: "Percent", value: r.percent, periodSeconds },
      { type: "Pods", value: r.pods, periodSeconds },
    ],
  };
}
