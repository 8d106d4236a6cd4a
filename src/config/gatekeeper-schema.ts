import { z } from "zod";

/**
 * `kubernetes.gatekeeper:` the in-cluster controller that opens the readiness gate of the live colour's new
 * pods (an HPA scale-up, a rescheduled pod) while no cutover command runs. `cutover render kubernetes`
 * writes its Deployment, ConfigMap, ServiceAccount, Role and RoleBinding when this is set.
 */
export const gatekeeperSchema = z
  .strictObject({
    image: z
      .string()
      .regex(/^\S+$/, "expected an image reference such as registry.example.com/cutover:0.1.0")
      .meta({
        description:
          "The image of cutover itself (the Dockerfile at the root of cutover's repository builds it); its entrypoint is the cutover CLI.",
      }),
    imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
    replicas: z.int().min(1).max(5).default(2).meta({
      description: "Gatekeeper pods; one leads (a Lease elects it), the others stand by to take over.",
    }),
  })
  .optional()
  .meta({
    description:
      "Runs `cutover gatekeeper` in the cluster, which opens the readiness gate of the live colour's new pods (HPA scale-ups, rescheduled pods) without a cutover command; needs readinessGate: true.",
  });

export type GatekeeperConfig = NonNullable<z.output<typeof gatekeeperSchema>>;
