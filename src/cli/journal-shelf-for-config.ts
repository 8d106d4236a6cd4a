import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { JournalShelf } from "../report/journal-shelf.js";

/**
 * Where other runners' deploy journals are kept for the config's platform: on Kubernetes, the ConfigMaps
 * of the cluster the config names; elsewhere none (the daemon's state folder has them all). The Kubernetes
 * client is loaded only then: it takes a second to load, and the local platform never needs it.
 */
export async function journalShelfFor(loaded: LoadedConfig, logger?: Logger): Promise<JournalShelf | null> {
  if (loaded.config.platform !== "kubernetes") return null;
  const { createKubeClients, loadKubeConfig } = await import("../platforms/kubernetes/kube-clients.js");
  const { kubernetesSection } = await import("../platforms/kubernetes/render-manifests.js");
  const { JournalConfigMaps } = await import("../platforms/kubernetes/journal-config-maps.js");
  const kube = kubernetesSection(loaded.config, loaded.file);
  const clients = createKubeClients(loadKubeConfig(kube, loaded.dir), kube.namespace);
  return new JournalConfigMaps({
    clients,
    service: loaded.config.service,
    ...(logger === undefined ? {} : { logger }),
  });
}
