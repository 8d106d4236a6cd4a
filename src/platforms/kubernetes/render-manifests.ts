import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
import { COLOURS, type Colour, otherColour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
import { autoscalerManifest, idleMinimum, liveMinimum } from "./autoscaler-manifest.js";
import { deploymentManifest } from "./deployment-manifest.js";
import { disruptionBudgetManifest } from "./disruption-budget-manifest.js";
import { KubernetesConfigMissingError } from "./errors.js";
import { type GatekeeperObject, gatekeeperManifests } from "./gatekeeper-manifests.js";
import { serviceManifest } from "./service-manifests.js";

export type KubeObject =
  | V1Service
  | V1Deployment
  | V1PodDisruptionBudget
  | V2HorizontalPodAutoscaler
  | GatekeeperObject;

export interface RenderOptions {
  /** The colour the active Service selects; default blue. */
  readonly active?: Colour;
  /** The version per colour; default: `version` from cutover.yaml for the active one, the same for the idle one. */
  readonly versions?: Partial<Record<Colour, string>>;
}

/** The `kubernetes:` section, or a typed error that says how to add it. */
export function kubernetesSection(config: Config, file = "cutover.yaml"): KubernetesConfig {
  if (!config.kubernetes) throw new KubernetesConfigMissingError(file);
  return config.kubernetes;
}

/**
 * Every object a service needs, pure: the active and preview Services, then per colour its Deployment,
 * PodDisruptionBudget and HorizontalPodAutoscaler. The active colour runs `replicas`; the idle one runs
 * `warmReplicas` (its HPA minimum lowered to match), as after a scale-down.
 */
export function renderManifests(config: Config, options: RenderOptions = {}): KubeObject[] {
  const kube = kubernetesSection(config);
  const active = options.active ?? "blue";
  const activeVersion = options.versions?.[active] ?? config.version;
  const objects: KubeObject[] = [
    serviceManifest(config.service, kube, "active", active),
    serviceManifest(config.service, kube, "preview", otherColour(active)),
  ];
  for (const colour of COLOURS) {
    const live = colour === active;
    const version = options.versions?.[colour] ?? activeVersion;
    const replicas = live ? config.replicas : kube.warmReplicas;
    objects.push(deploymentManifest(config, kube, { colour, version, replicas }));
    const budget = disruptionBudgetManifest(config.service, kube, colour);
    if (budget) objects.push(budget);
    const minimum = kube.autoscaling
      ? live
        ? liveMinimum(kube.autoscaling, config.replicas)
        : idleMinimum(kube.warmReplicas)
      : 0;
    const autoscaler = autoscalerManifest(config.service, kube, colour, minimum);
    if (autoscaler) objects.push(autoscaler);
  }
  objects.push(...gatekeeperManifests(config, kube));
  return objects;
}

/** The objects as one YAML stream that `kubectl apply -f` takes. */
export function manifestsYaml(objects: readonly KubeObject[], source = "cutover.yaml"): string {
  const head = [
    `# Rendered by \`cutover render kubernetes\` from ${source}.`,
    "# Apply once to create the objects; from then on cutover owns the Services' selectors, the images and the replicas.",
  ].join("\n");
  const documents = objects.map((o) =>
    stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
  );
  return `${head}\n${documents.map((d) => `---\n${d}`).join("\n")}\n`;
}
