import { destination, pino } from "pino";
import { redactSecrets } from "../config/interpolate.js";
import type { LoadedConfig } from "../config/load.js";
import { AdminClient } from "./admin-client.js";
import type { ControlPlane } from "./control-plane.js";
import { DaemonControl } from "./daemon-control.js";
import { EngineControl } from "./engine-control.js";

/**
 * The control plane for the config's platform: the daemon on the local platform; on Kubernetes, an engine
 * in this process over the state the cluster holds (warnings and errors logged to stderr, so --json stays clean).
 * The Kubernetes client is loaded only then: it takes a second to load, and the local platform never needs it.
 */
export async function controlFor(loaded: LoadedConfig): Promise<ControlPlane> {
  if (loaded.config.platform !== "kubernetes") return new DaemonControl(AdminClient.forConfig(loaded));
  const logger = pino(
    { level: process.env.CUTOVER_LOG_LEVEL ?? "warn", hooks: { streamWrite: redactSecrets } },
    destination(2),
  );
  const { createKubernetesEngine } = await import("../compose/kubernetes-engine.js");
  const kube = await createKubernetesEngine(loaded, logger);
  return new EngineControl({
    engine: kube.engine,
    finish: () => kube.settle(),
    leave: () => kube.close(),
  });
}
