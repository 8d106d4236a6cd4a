import { destination, pino } from "pino";
import type { LoadedConfig } from "../config/load.js";
import { createKubernetesEngine } from "../platforms/kubernetes/create-kubernetes-engine.js";
import { AdminClient } from "./admin-client.js";
import type { ControlPlane } from "./control-plane.js";
import { DaemonControl } from "./daemon-control.js";
import { EngineControl } from "./engine-control.js";

/**
 * The control plane for the config's platform: the daemon on the local platform; on Kubernetes, an engine
 * in this process over the state the cluster holds (warnings and errors logged to stderr, so --json stays clean).
 */
export async function controlFor(loaded: LoadedConfig): Promise<ControlPlane> {
  if (loaded.config.platform !== "kubernetes") return new DaemonControl(AdminClient.forConfig(loaded));
  const logger = pino({ level: process.env.CUTOVER_LOG_LEVEL ?? "warn" }, destination(2));
  const kube = await createKubernetesEngine(loaded, logger);
  return new EngineControl({
    engine: kube.engine,
    finish: () => kube.settle(),
    leave: () => kube.platform.close(),
  });
}
