import type { V1Deployment, V1EnvVar } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
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

/** What one colour runs: a version, a replica count, and environment added for it (e.g. by the migrator). */
export interface ColourSpec {
  readonly colour: Colour;
  readonly version: string;
  readonly replicas: number;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * One colour's Deployment: labels app + version (the colour), the image of its version, APP_VERSION /
 * ENVIRONMENT / PORT and `start.env` in its environment, probes from `health:`, pods spread across nodes,
 * and a rolling update that never lowers capacity (maxSurge 1, maxUnavailable 0).
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
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: "kubernetes.io/hostname",
                    labelSelector: { matchLabels: labels },
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: config.service,
              image: imageFor(kube.image, spec.version),
              imagePullPolicy: kube.imagePullPolicy,
              ports: [{ name: PORT_NAME, containerPort: kube.containerPort, protocol: "TCP" }],
              env: containerEnv(config, kube, spec),
              ...(hasResources(kube) ? { resources: kube.resources } : {}),
              ...probesFor(config.health),
            },
          ],
        },
      },
    },
  };
}

/** APP_VERSION, ENVIRONMENT (the colour) and PORT, then start.env ({version} and {port} replaced), then `spec.env`. */
function containerEnv(config: Config, kube: KubernetesConfig, spec: ColourSpec): V1EnvVar[] {
  const port = String(kube.containerPort);
  const fill = (value: string) => value.replaceAll("{version}", spec.version).replaceAll("{port}", port);
  const env = new Map<string, string>([
    ["APP_VERSION", spec.version],
    ["ENVIRONMENT", spec.colour],
    ["PORT", port],
  ]);
  for (const [name, value] of Object.entries(config.start.env)) env.set(name, fill(value));
  for (const [name, value] of Object.entries(spec.env ?? {})) env.set(name, value);
  return [...env].map(([name, value]) => ({ name, value }));
}

function hasResources(kube: KubernetesConfig): boolean {
  return kube.resources.requests !== undefined || kube.resources.limits !== undefined;
}
