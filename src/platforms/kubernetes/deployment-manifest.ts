import type { V1Deployment } from "@kubernetes/client-node";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
import type { ColourSpec } from "./colour-spec.js";
import { containerEnv } from "./container-env.js";
import {
  ANNOTATIONS,
  colourLabels,
  imageFor,
  MANAGED_BY,
  names,
  PORT_NAME,
  READINESS_GATE,
} from "./manifest-names.js";
import { probesFor } from "./probes.js";
import { spreadAcrossNodes } from "./spread-affinity.js";

/**
 * One colour's Deployment: labels app + version (the colour), the image of its version, its environment
 * (container-env.ts: no database URL or password as a plain value) and `kubernetes.envFrom`, probes from
 * `health:`, pods spread across nodes, and a rolling update that never lowers capacity (maxSurge 1,
 * maxUnavailable 0).
 */
export function deploymentManifest(config: Config, kube: KubernetesConfig, spec: ColourSpec): V1Deployment {
  const labels = colourLabels(config.service, spec.colour);
  const annotations = { [ANNOTATIONS.version]: spec.version };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: names.deployment(config.service, spec.colour),
      namespace: kube.namespace,
      labels: { ...labels, ...MANAGED_BY },
      annotations,
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: labels },
      progressDeadlineSeconds: kube.progressDeadlineSeconds,
      revisionHistoryLimit: 3,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels, annotations },
        spec: {
          terminationGracePeriodSeconds: Math.max(1, Math.ceil(config.start.stopGrace / 1000)),
          ...(kube.readinessGate ? { readinessGates: [{ conditionType: READINESS_GATE }] } : {}),
          affinity: spreadAcrossNodes(labels),
          containers: [
            {
              name: config.service,
              image: imageFor(kube.image, spec.version),
              imagePullPolicy: kube.imagePullPolicy,
              ports: [{ name: PORT_NAME, containerPort: kube.containerPort, protocol: "TCP" }],
              env: containerEnv(config, kube, spec).env,
              ...(kube.envFrom.length > 0 ? { envFrom: kube.envFrom } : {}),
              ...(hasResources(kube) ? { resources: kube.resources } : {}),
              ...probesFor(config.health, kube.containerPort),
            },
          ],
        },
      },
    },
  };
}

function hasResources(kube: KubernetesConfig): boolean {
  return kube.resources.requests !== undefined || kube.resources.limits !== undefined;
}
