import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
import { callApi, isConflict, type KubeClients } from "./kube-clients.js";
import { FIELD_MANAGER } from "./manifest-names.js";
import { serviceManifest } from "./service-manifests.js";

/**
 * Creates the active Service (selecting blue) and the preview Service (selecting green) when they do not
 * exist yet, so a first deploy needs nothing applied by hand but its image. A plain create: an existing
 * Service (409 AlreadyExists) is left exactly as it is, since its selector is live traffic.
 */
export async function ensureServices(
  clients: KubeClients,
  config: Config,
  kube: KubernetesConfig,
): Promise<string[]> {
  const created: string[] = [];
  for (const [role, colour] of [
    ["active", "blue"],
    ["preview", "green"],
  ] as const) {
    const body = serviceManifest(config.service, kube, role, colour);
    const name = body.metadata?.name ?? "";
    await callApi(`creating service ${name}`, async () => {
      try {
        await clients.core.createNamespacedService({
          namespace: clients.namespace,
          body,
          fieldManager: FIELD_MANAGER,
        });
        created.push(name);
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    });
  }
  return created;
}
