import { z } from "zod";

/** Where colours run: child processes on this machine, or Deployments in a Kubernetes cluster. */
export const platformSchema = z
  .enum(["local", "kubernetes"])
  .default("local")
  .meta({ description: "local: child processes behind the built-in router; kubernetes: Deployments and Services." });

/** `kubernetes:` in cutover.yaml: manifests and the driver. Owned by src/platforms/kubernetes. */
export const kubernetesSchema = z
  .strictObject({})
  .optional()
  .meta({ description: "How the service runs on Kubernetes (used when platform is kubernetes)." });

export type KubernetesConfig = z.output<typeof kubernetesSchema>;
