import { z } from "zod";
import { parseAddress } from "./address.js";
import { dnsLabel } from "./dns-label.js";
import { duration } from "./duration-field.js";
import { gatekeeperSchema } from "./gatekeeper-schema.js";
import { databaseSecretSchema, envFromSchema, envSchema } from "./kubernetes-env-schema.js";

/** Where colours run: child processes on this machine, or Deployments in a Kubernetes cluster. */
export const platformSchema = z.enum(["local", "kubernetes"]).default("local").meta({
  description: "local: child processes behind the built-in router; kubernetes: Deployments and Services.",
});

/** A resource quantity: "250m", "0.5", "256Mi", "1Gi"; numbers are written as they are. */
const quantity = z
  .union([
    z
      .string()
      .regex(/^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, 'expected a quantity such as "250m" or "256Mi"'),
    z.number().nonnegative(),
  ])
  .transform(String);

/** Kubernetes' ResourceList: exactOptional keys (absent or set, never undefined), so it is a V1ResourceRequirements part as is. */
const resourceList = z.strictObject({ cpu: quantity.exactOptional(), memory: quantity.exactOptional() });

/** A count or a percentage, as PodDisruptionBudget and rolling-update fields take them. */
const intOrPercent = z.union([
  z.int().min(0),
  z.string().regex(/^\d{1,3}%$/, 'expected a count or a percentage such as "50%"'),
]);

const disruptionBudget = z
  .union([z.strictObject({ minAvailable: intOrPercent }), z.strictObject({ maxUnavailable: intOrPercent })])
  .nullable()
  .default({ maxUnavailable: 1 })
  .meta({
    description:
      "A PodDisruptionBudget per colour: { minAvailable } or { maxUnavailable } (a count or a percentage); null for none.",
  });

const scalingRules = (window: string, percent: number, pods: number, period: string) =>
  z
    .strictObject({
      stabilizationWindow: duration(window).meta({
        description: "The HPA looks back this long before it scales in this direction (whole seconds).",
      }),
      percent: z
        .int()
        .min(1)
        .default(percent)
        .meta({ description: "At most this percentage of pods per period." }),
      pods: z.int().min(1).default(pods).meta({ description: "At most this many pods per period." }),
      period: duration(period).meta({ description: "The period of the two limits above (1s to 30m)." }),
    })
    .prefault({});

export const autoscalingSchema = z
  .strictObject({
    minReplicas: z.int().min(1).optional().meta({
      description: "Lowest replica count of the live colour; default: `replicas`.",
    }),
    maxReplicas: z.int().min(1).meta({ description: "Highest replica count of a colour." }),
    cpu: z.int().min(1).max(1000).nullable().default(70).meta({
      description: "Target average CPU use, in percent of the request; null for none.",
    }),
    memory: z.int().min(1).max(1000).nullable().default(null).meta({
      description: "Target average memory use, in percent of the request; null for none.",
    }),
    scaleUp: scalingRules("0s", 100, 4, "15s"),
    scaleDown: scalingRules("5m", 10, 1, "1m"),
  })
  .meta({ description: "A HorizontalPodAutoscaler (autoscaling/v2) per colour; leave out for none." });

const serviceType = z.enum(["ClusterIP", "NodePort", "LoadBalancer"]);
const annotations = z.record(z.string(), z.string());

/** A field `service:` no longer has: any value is refused with what to write instead. */
const moved = (instead: (value: string) => string) =>
  z
    .never({
      error: (issue) =>
        `the preview Service has settings of its own now (ClusterIP unless set): write ${instead(JSON.stringify(issue.input))} instead`,
    })
    .optional()
    .meta({ description: `Removed; write ${instead("<value>")} instead.` });

const previewService = z
  .strictObject({
    type: serviceType.default("ClusterIP").meta({
      description:
        "ClusterIP (default): reachable inside the cluster only. NodePort or LoadBalancer publish the idle colour, which has passed no check yet; choose them only with care.",
    }),
    nodePort: z.int().min(30000).max(32767).optional().meta({
      description: "The preview Service's node port (type NodePort or LoadBalancer).",
    }),
    annotations: annotations.default({}).meta({
      description:
        "The preview Service's own annotations; it never takes service.annotations (an internal load balancer's annotation must be written here too).",
    }),
  })
  .superRefine((preview, ctx) => {
    if (preview.nodePort !== undefined && preview.type === "ClusterIP")
      ctx.addIssue({
        code: "custom",
        path: ["nodePort"],
        input: preview.nodePort,
        message: "a ClusterIP Service has no node port; set service.preview.type: NodePort as well",
      });
  })
  .prefault({})
  .meta({
    description:
      "The preview Service (smoke checks reach the idle colour through it): ClusterIP with no annotations unless set here. It shares port and sessionAffinity with the active Service, nothing else.",
  });

const service = z
  .strictObject({
    type: serviceType.default("ClusterIP").meta({ description: "The active Service's type." }),
    port: z
      .int()
      .min(1)
      .max(65535)
      .default(80)
      .meta({ description: "The Services' port; it targets containerPort." }),
    nodePort: z
      .int()
      .min(30000)
      .max(32767)
      .optional()
      .meta({ description: "The active Service's node port (type NodePort)." }),
    annotations: annotations.default({}).meta({
      description:
        'Passed to the active Service as they are, e.g. Azure\'s { "service.beta.kubernetes.io/azure-load-balancer-internal": "true", "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/health" }; the preview Service has its own (service.preview.annotations).',
    }),
    preview: previewService,
    previewNodePort: moved((port) => `kubernetes.service.preview: { type: NodePort, nodePort: ${port} }`),
    previewAnnotations: moved(() => "them under kubernetes.service.preview.annotations"),
    sessionAffinity: z.enum(["None", "ClientIP"]).default("None").meta({
      description: "ClientIP: each client IP keeps its pod (like router.sticky).",
    }),
    sessionAffinityTimeout: z.int().min(1).max(86400).optional().meta({
      description: "Seconds a ClientIP affinity lasts (Kubernetes' default: 10800).",
    }),
  })
  .prefault({});

export const switchProbeSchema = z
  .strictObject({
    url: z
      .url()
      .meta({ description: "A URL served through the active Service, reachable from where cutover runs." }),
    versionHeader: z.string().default("x-app-version").meta({
      description: "The response header that names the version which answered.",
    }),
    colourHeader: z.string().optional().meta({
      description:
        "A response header that names the colour which answered (each pod has it in ENVIRONMENT); when set, the probe waits for the new colour itself, so a switch between two colours of one version is confirmed too.",
    }),
    answers: z.int().min(1).max(1000).default(10).meta({
      description: "Consecutive answers from the new version that confirm the switch.",
    }),
    interval: duration("100ms"),
    timeout: duration("60s").meta({
      description: "Not confirmed by then: the selector is put back and the deploy is aborted.",
    }),
  })
  .meta({
    description: "Confirms a switch by asking the active Service until only the new version answers.",
  });

/** host:port of the preview Service as cutover reaches it. */
export const previewAddress = z
  .string()
  .refine((value) => parseAddress(value) !== undefined, "expected host:port such as 127.0.0.1:8081");

/** `kubernetes:` in cutover.yaml: the manifests `cutover render kubernetes` writes, and how the driver reaches the cluster. */
export const kubernetesSchema = z
  .strictObject({
    namespace: dnsLabel.default("default"),
    context: z.string().min(1).optional().meta({
      description:
        "The kubeconfig context; default: its current-context (or the in-cluster service account).",
    }),
    kubeconfig: z.string().min(1).optional().meta({
      description:
        "A kubeconfig file, relative to cutover.yaml; default: $KUBECONFIG, ~/.kube/config, or in-cluster.",
    }),
    image: z
      .string()
      .regex(
        /\{version\}/,
        "expected an image reference with {version}, such as registry.example.com/shop:{version}",
      )
      .meta({ description: "The container image; {version} is replaced by the version deployed." }),
    imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
    containerPort: z.int().min(1).max(65535).default(8080).meta({
      description: "The port the service listens on in its container (PORT is set to it).",
    }),
    resources: z
      .strictObject({ requests: resourceList.exactOptional(), limits: resourceList.exactOptional() })
      .default({})
      .meta({
        description: "Container requests and limits: { requests: { cpu, memory }, limits: { cpu, memory } }.",
      }),
    env: envSchema,
    envFrom: envFromSchema,
    database: databaseSecretSchema.optional(),
    warmReplicas: z.int().min(0).max(64).default(0).meta({
      description:
        "Replicas the old colour keeps after its scale-down delay (0: none; its HPA minimum follows).",
    }),
    disruptionBudget,
    autoscaling: autoscalingSchema.optional(),
    service,
    readinessGate: z.boolean().default(false).meta({
      description:
        "Pods carry a readiness gate that cutover opens once the pre-switch checks passed; only then are they Ready.",
    }),
    gatekeeper: gatekeeperSchema,
    progressDeadlineSeconds: z.int().min(1).default(600).meta({
      description:
        "A rollout that makes no progress this long fails (the Deployment's progressDeadlineSeconds).",
    }),
    preview: previewAddress.optional().meta({
      description:
        "host:port where smoke checks reach the preview Service from where cutover runs; default: router.preview.",
    }),
    switchProbe: switchProbeSchema.optional(),
    lockLease: duration("30s")
      .refine((ms) => ms >= 1_000 && ms <= 3_600_000, 'expected a lease between "1s" and "1h"')
      .meta({
        description:
          "The runner of a deploy renews its lock every third of this; a lock not renewed this long was abandoned (the runner was killed) and `cutover abort` may close its deploy.",
      }),
    historyLimit: z.int().min(1).max(500).default(50).meta({
      description: "Deploys kept in the history ConfigMap.",
    }),
  })
  .optional()
  .meta({ description: "How the service runs on Kubernetes (used when platform is kubernetes)." });

export type KubernetesConfig = NonNullable<z.output<typeof kubernetesSchema>>;
export type AutoscalingConfig = NonNullable<KubernetesConfig["autoscaling"]>;
export type SwitchProbeConfig = NonNullable<KubernetesConfig["switchProbe"]>;
