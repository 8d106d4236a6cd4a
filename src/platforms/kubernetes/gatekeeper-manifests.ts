import { createHash } from "node:crypto";
import type {
  V1ConfigMap,
  V1Deployment,
  V1PodSpec,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { GatekeeperConfig } from "../../config/gatekeeper-schema.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
import { CutoverError } from "../../errors.js";
import { MANAGED_BY, names } from "./manifest-names.js";
import { spreadAcrossNodes } from "./spread-affinity.js";

export type GatekeeperObject = V1ServiceAccount | V1Role | V1RoleBinding | V1ConfigMap | V1Deployment;

/** The name of every gatekeeper object of a service (Deployment, ConfigMap, ServiceAccount, Role, RoleBinding, Lease). */
export const gatekeeperName = (service: string) => `${service}-cutover-gatekeeper`;

/** Where the gatekeeper's cutover.yaml is mounted from its ConfigMap. */
export const GATEKEEPER_CONFIG_DIR = "/etc/cutover";
const CONFIG_KEY = "cutover.yaml";

/** `kubernetes.gatekeeper` without `readinessGate: true`: there would be no gate to open. */
export class GatekeeperWithoutGateError extends CutoverError {
  constructor() {
    super(
      "GATEKEEPER_WITHOUT_GATE",
      "kubernetes.gatekeeper is set but kubernetes.readinessGate is not true: pods carry no readiness gate, so the gatekeeper would have nothing to open; set readinessGate: true, or remove gatekeeper",
    );
    this.name = "GatekeeperWithoutGateError";
  }
}

/**
 * The objects that run `cutover gatekeeper` in the service's namespace when `kubernetes.gatekeeper` is set:
 * a ServiceAccount, a Role with the least it needs and its RoleBinding, a ConfigMap with the few lines of
 * cutover.yaml it reads, and a Deployment of `replicas` pods that elect a leader through a Lease. None
 * without `kubernetes.gatekeeper`.
 */
export function gatekeeperManifests(config: Config, kube: KubernetesConfig): GatekeeperObject[] {
  const gatekeeper = kube.gatekeeper;
  if (!gatekeeper) return [];
  if (!kube.readinessGate) throw new GatekeeperWithoutGateError();
  const yaml = gatekeeperConfigYaml(config, kube);
  return [
    serviceAccount(config.service, kube),
    role(config.service, kube),
    roleBinding(config.service, kube),
    configMap(config.service, kube, yaml),
    deployment(config.service, kube, gatekeeper, yaml),
  ];
}

/** What `cutover gatekeeper` reads: the service, its namespace, and that pods carry the gate; nothing secret. */
export function gatekeeperConfigYaml(config: Config, kube: KubernetesConfig): string {
  const minimal = {
    service: config.service,
    version: config.version,
    platform: "kubernetes",
    kubernetes: { namespace: kube.namespace, image: kube.image, readinessGate: true },
  };
  return `# Read by \`cutover gatekeeper\`; written by \`cutover render kubernetes\`.\n${stringify(minimal)}`;
}

function metadata(service: string, kube: KubernetesConfig) {
  return { name: gatekeeperName(service), namespace: kube.namespace, labels: labels(service) };
}

function labels(service: string): Record<string, string> {
  return {
    app: gatekeeperName(service),
    "app.kubernetes.io/name": "cutover-gatekeeper",
    "app.kubernetes.io/instance": service,
    ...MANAGED_BY,
  };
}

function serviceAccount(service: string, kube: KubernetesConfig): V1ServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: metadata(service, kube) };
}

/**
 * The least the gatekeeper needs: read its service's pods, Deployments and active Service (the Service
 * only by name: the gatekeeper lists and watches it with `fieldSelector=metadata.name`, which RBAC matches
 * against resourceNames); patch pods/status (the gate condition); its own Lease. `create` cannot be
 * limited to a name (the name is not known when it is authorised), so that rule names none.
 */
export function gatekeeperRules(service: string): V1PolicyRule[] {
  const lease = gatekeeperName(service);
  return [
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
    { apiGroups: [""], resources: ["pods/status"], verbs: ["patch"] },
    {
      apiGroups: [""],
      resources: ["services"],
      resourceNames: [names.activeService(service)],
      verbs: ["get", "list", "watch"],
    },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [lease],
      verbs: ["get", "update"],
    },
  ];
}

function role(service: string, kube: KubernetesConfig): V1Role {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: metadata(service, kube),
    rules: gatekeeperRules(service),
  };
}

function roleBinding(service: string, kube: KubernetesConfig): V1RoleBinding {
  const name = gatekeeperName(service);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: metadata(service, kube),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace: kube.namespace }],
  };
}

function configMap(service: string, kube: KubernetesConfig, yaml: string): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(service, kube),
    data: { [CONFIG_KEY]: yaml },
  };
}

/** `replicas` pods of cutover's image running `cutover gatekeeper`; a change of its config rolls them. */
function deployment(
  service: string,
  kube: KubernetesConfig,
  gatekeeper: GatekeeperConfig,
  yaml: string,
): V1Deployment {
  const selector = { app: gatekeeperName(service) };
  const hash = createHash("sha256").update(yaml).digest("hex").slice(0, 16);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(service, kube),
    spec: {
      replicas: gatekeeper.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: labels(service), annotations: { "cutover.dev/config-hash": hash } },
        spec: podSpec(service, gatekeeper),
      },
    },
  };
}

function podSpec(service: string, gatekeeper: GatekeeperConfig): V1PodSpec {
  const name = gatekeeperName(service);
  return {
    serviceAccountName: name,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 10,
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
    affinity: spreadAcrossNodes({ app: name }),
    containers: [
      {
        name: "gatekeeper",
        image: gatekeeper.image,
        imagePullPolicy: gatekeeper.imagePullPolicy,
        args: ["gatekeeper", "--config", `${GATEKEEPER_CONFIG_DIR}/${CONFIG_KEY}`],
        env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [{ name: "config", mountPath: GATEKEEPER_CONFIG_DIR, readOnly: true }],
      },
    ],
    volumes: [{ name: "config", configMap: { name } }],
  };
}
