import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { DeployAnalysis } from "../../analysis/deploy-analysis.js";
import type { LoadedConfig } from "../../config/load.js";
import { parseAddress } from "../../config/schema.js";
import type { DeployMigrator } from "../../db/deploy-migrator.js";
import { Engine } from "../../engine/engine.js";
import { ConfigError } from "../../errors.js";
import { AnnotationStateStore } from "./annotation-state-store.js";
import { ensureServices } from "./ensure-services.js";
import { createKubeClients, type KubeClients, loadKubeConfig } from "./kube-clients.js";
import { KubernetesPlatform } from "./kubernetes-platform.js";
import { kubernetesSection } from "./render-manifests.js";
import { ServiceSelectorRouter } from "./service-selector-router.js";

export interface KubernetesEngineExtras {
  readonly analysis?: DeployAnalysis | null;
  readonly migrator?: DeployMigrator | null;
  /** Clients for another cluster than the kubeconfig names (tests). */
  readonly clients?: KubeClients;
  /** How often pods are re-read while waiting on them; default 500 ms. */
  readonly pollMs?: number;
}

/** An engine driving one service on Kubernetes, with the parts it was built from. */
export interface KubernetesEngine {
  readonly engine: Engine;
  readonly platform: KubernetesPlatform;
  readonly router: ServiceSelectorRouter;
  readonly store: AnnotationStateStore;
  readonly clients: KubeClients;
  /** Waits for scale-downs the engine has scheduled (the old colour kept warm), then closes. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `platform: kubernetes` as the CLI runs it: no daemon; each command builds this in its own process, and
 * everything it must share with other runners lives in the cluster (state on the active Service, history
 * in a ConfigMap, the deploy in progress as the lock). Creates the two Services if they are missing.
 */
export async function createKubernetesEngine(
  loaded: LoadedConfig,
  logger: Logger,
  extras: KubernetesEngineExtras = {},
): Promise<KubernetesEngine> {
  const { config } = loaded;
  const kube = kubernetesSection(config, loaded.file);
  const clients = extras.clients ?? createKubeClients(loadKubeConfig(kube, loaded.dir), kube.namespace);
  const created = await ensureServices(clients, config, kube);
  if (created.length > 0) logger.info({ created }, "created the Services");
  const platform = new KubernetesPlatform({ config, kube, clients, logger, pollMs: extras.pollMs });
  await platform.refresh();
  const readyTimeoutMs = config.deploy.readyTimeout;
  const router = await ServiceSelectorRouter.open({
    clients,
    service: config.service,
    probe: kube.switchProbe ?? null,
    versionOf: (colour) => platform.versionOf(colour),
    beforeSwitch: kube.readinessGate
      ? async (colour) => void (await platform.openReadinessGate(colour, { timeoutMs: readyTimeoutMs }))
      : undefined,
    logger,
  });
  const released = await platform.releaseGates(router.active);
  if (released > 0)
    logger.info({ colour: router.active, pods: released }, "opened the readiness gate of live pods");
  const store = new AnnotationStateStore({
    clients,
    service: config.service,
    historyLimit: kube.historyLimit,
    leaseMs: kube.lockLease,
    logger,
  });
  const engine = await Engine.open({
    service: config.service,
    initialVersion: config.version,
    replicas: config.replicas,
    readyTimeoutMs,
    scaleDownDelayMs: config.deploy.scaleDownDelay,
    drainTimeoutMs: config.router.drainTimeout,
    autoPromote: config.deploy.autoPromote,
    smoke: config.deploy.smoke,
    preview: previewAddress(loaded, kube.preview),
    platform,
    router,
    store,
    logger,
    migrator: extras.migrator ?? null,
    analysis: extras.analysis ?? null,
  });
  const close = async () => {
    await engine.close();
    await platform.close();
  };
  return {
    engine,
    platform,
    router,
    store,
    clients,
    settle: async () => {
      await scaleDownsDone(engine, platform);
      await close();
    },
    close,
  };
}

/** Where smoke checks reach the preview Service: `kubernetes.preview`, else router.preview. */
function previewAddress(loaded: LoadedConfig, preview: string | undefined) {
  if (preview === undefined) return loaded.config.router.preview;
  const address = parseAddress(preview);
  if (!address)
    throw new ConfigError(loaded.file, [
      `kubernetes.preview: expected host:port such as 127.0.0.1:8081; got "${preview}"`,
    ]);
  return address;
}

/** Resolves once no scale-down is pending and the platform has finished the ones that ran. */
async function scaleDownsDone(engine: Engine, platform: KubernetesPlatform): Promise<void> {
  const pending = () => Object.values(engine.status().colours).some((c) => c.scaleDownAt !== null);
  while (pending()) await sleep(50);
  await sleep(10);
  await platform.settled();
}
