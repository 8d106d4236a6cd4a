import { z } from "zod";
import { address } from "./address.js";
import { dnsLabel } from "./dns-label.js";
import { duration, optionalDuration } from "./duration-field.js";
import { autoscalingSchema, previewAddress, switchProbeSchema } from "./kubernetes-schema.js";

/*
 * A fleet: one service in several regions, deployed region by region in waves (issue 13). `regions:` names
 * where each region's cutover runs; `waves:` the order; `globalFront:` what sends users to the regions.
 * A config without `regions:` is a single-region config, exactly as before.
 */

const regionName = dnsLabel;

/** An http(s) URL; plain http only to a loopback address (the admin token would cross the network in clear). */
const adminUrl = z
  .url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
  .refine((url) => url.startsWith("https:") || isLoopbackUrl(url), {
    message:
      "a region on another machine is reached over https:// only (the admin token must not cross the network in clear); plain http:// is for loopback (127.0.0.0/8, ::1, localhost)",
  });

export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export const regionAdminSchema = z
  .strictObject({
    url: adminUrl.meta({
      description:
        "The region's cutover admin API (its router.admin), e.g. https://eu.example.com:8079; http:// only on loopback.",
    }),
    token: z
      .string()
      .min(16, `expected the region's admin token (its .cutover/token), e.g. \${EU_TOKEN}`)
      .meta({
        description: `The region's admin token: write \${A_VARIABLE}, never the token itself.`,
      }),
    ca: z.string().min(1).optional().meta({
      description: "A PEM file of the CA that signed the region's certificate, relative to cutover.yaml.",
    }),
  })
  .meta({ description: "A region run by a cutover daemon of its own, reached over its admin API." });

export const regionKubernetesSchema = z
  .strictObject({
    context: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "The kubeconfig context of the region's cluster." }),
    namespace: regionName.optional().meta({ description: "Default: kubernetes.namespace." }),
    kubeconfig: z.string().min(1).optional().meta({ description: "Default: kubernetes.kubeconfig." }),
    preview: previewAddress.optional().meta({
      description: "Where smoke checks reach this cluster's preview Service; default: kubernetes.preview.",
    }),
    switchProbe: switchProbeSchema.optional().meta({
      description:
        "Confirms this cluster's switch through its active Service; default: kubernetes.switchProbe.",
    }),
  })
  .meta({
    description: "A region that is a Kubernetes cluster (platform: kubernetes); overrides kubernetes:.",
  });

export const regionSchema = z
  .strictObject({
    name: regionName.meta({ description: "The region's name, used in waves and --region." }),
    admin: regionAdminSchema.optional(),
    kubernetes: regionKubernetesSchema.optional(),
    replicas: z.int().min(1).max(64).optional().meta({
      description: "Replicas per colour in this region (Kubernetes regions); default: replicas.",
    }),
    autoscaling: autoscalingSchema.optional().meta({
      description:
        "This region's HorizontalPodAutoscaler (Kubernetes regions); default: kubernetes.autoscaling.",
    }),
    endpoint: z
      .url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
      .optional()
      .meta({
        description:
          "Where the region serves its users (its router.listen, or its load balancer): the global front's target.",
      }),
    priority: z.int().min(1).max(1000).optional().meta({
      description: "Priority routing: lower first; default: the region's place in the list.",
    }),
    weight: z
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .meta({ description: "Weighted routing: the region's share." }),
  })
  .meta({ description: "One region of the fleet." });

export const waveSchema = z
  .union([
    z.array(regionName).min(1, "expected at least one region in a wave"),
    z.strictObject({
      regions: z.array(regionName).min(1, "expected at least one region in a wave"),
      bake: optionalDuration(),
      maxParallel: z.int().min(1).optional(),
    }),
  ])
  .transform((wave) => (Array.isArray(wave) ? { regions: wave } : wave))
  .meta({
    description:
      'Regions deployed together: a list of names, or { regions, bake, maxParallel } (bake: how long the wave runs on the new version and is judged before the next wave starts, default "5m").',
  });

export const fleetSchema = z
  .strictObject({
    bake: duration("5m").meta({
      description: "How long each wave runs on the new version, judged, before the next starts.",
    }),
    maxParallel: z.int().min(1).max(64).optional().meta({
      description: "At most this many regions of a wave deploy at once; default: all of the wave.",
    }),
    frontTimeout: duration("10m").meta({
      description:
        "How long the global front may take to confirm a region is out or back in (Traffic Manager: its DNS TTL and probes); past it the move fails.",
    }),
    judgeInterval: duration("10s").meta({
      description: "During a bake, how often each region's metrics are read for the fleet's judge.",
    }),
    stateDir: z.string().default(".cutover/fleet").meta({
      description: "Where the runner records fleet deploys (relative to cutover.yaml).",
    }),
  })
  .prefault({})
  .meta({ description: "How a fleet deploy runs its waves." });

const probeSchema = z
  .strictObject({
    path: z.string().startsWith("/", "expected a path starting with /").optional().meta({
      description: "Default: health.path.",
    }),
    interval: duration("1s"),
    timeout: duration("1s"),
    failureThreshold: z.int().min(1).max(10).default(3),
    successThreshold: z.int().min(1).max(10).default(1),
  })
  .prefault({})
  .meta({ description: "The front's health probe of each region's endpoint." });

const frontShared = {
  routing: z.enum(["priority", "weighted"]).default("priority").meta({
    description: "priority: every user to the first healthy region (failover in order); weighted: by weight.",
  }),
  drainDuringDeploy: z.boolean().default(false).meta({
    description: "Take a region out of the front while it deploys and bakes; put it back after its bake.",
  }),
};

export const builtinFrontSchema = z.strictObject({
  type: z.literal("builtin"),
  listen: address("127.0.0.1:8000").meta({ description: "Where users' traffic arrives at the front." }),
  admin: address("127.0.0.1:7999").meta({ description: "The front's admin API; keep it on loopback." }),
  url: z.url().optional().meta({
    description: "The front's admin API as the runner reaches it; default: http://<admin>.",
  }),
  token: z.string().min(16).optional().meta({
    description: `The front's admin token (\${VAR}); default: the token \`cutover global\` wrote in its state dir.`,
  }),
  probe: probeSchema,
  ...frontShared,
});

export const azureFrontSchema = z.strictObject({
  type: z.literal("azure-traffic-manager"),
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  profile: z.string().min(1).meta({ description: "The Traffic Manager profile's name." }),
  dnsTtl: z.int().min(0).max(2147483647).default(30).meta({
    description: "The profile's DNS TTL in seconds; a drained region is switched after it has passed.",
  }),
  probe: probeSchema,
  armEndpoint: z.url().optional().meta({
    description:
      "Azure Resource Manager's address; default https://management.azure.com (tests use a stand-in).",
  }),
  ...frontShared,
});

export const globalFrontSchema = z
  .discriminatedUnion("type", [builtinFrontSchema, azureFrontSchema])
  .meta({ description: "The global layer in front of the regions." });

export type RegionConfig = z.output<typeof regionSchema>;
export type WaveConfig = z.output<typeof waveSchema>;
export type FleetConfig = z.output<typeof fleetSchema>;
export type GlobalFrontConfig = z.output<typeof globalFrontSchema>;
export type BuiltinFrontConfig = z.output<typeof builtinFrontSchema>;
export type AzureFrontConfig = z.output<typeof azureFrontSchema>;
