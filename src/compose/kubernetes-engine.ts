import type { Logger } from "pino";
import type { Colour } from "../colour.js";
import type { LoadedConfig } from "../config/load.js";
import { type Address, parseAddress } from "../config/schema.js";
import type { Engine } from "../engine/engine.js";
import { httpUrl } from "../host-port.js";
import {
  type AnnotationStateStore,
  annotationStateStore,
} from "../platforms/kubernetes/annotation-state-store.js";
import { ensureServices } from "../platforms/kubernetes/ensure-services.js";
import { JournalConfigMaps } from "../platforms/kubernetes/journal-config-maps.js";
import { createKubeClients, type KubeClients, loadKubeConfig } from "../platforms/kubernetes/kube-clients.js";
import { KubernetesPlatform } from "../platforms/kubernetes/kubernetes-platform.js";
import { PodProxyFetcher } from "../platforms/kubernetes/pod-proxy-fetcher.js";
import { kubernetesSection } from "../platforms/kubernetes/render-manifests.js";
import { ServiceSelectorRouter } from "../platforms/kubernetes/service-selector-router.js";
import { type ComposedEngine, composeEngine } from "./compose-engine.js";
import type { PlatformParts } from "./platform-parts.js";
import { readyReplicas } from "./ready-replicas.js";

export interface KubernetesEngineExtras {
  /** Clients for another cluster than the kubeconfig names (tests). */
  readonly clients?: KubeClients;
  /** How often pods are re-read while waiting on them; default 500 ms. */
  readonly pollMs?: number;
}

/** An engine driving one service on Kubernetes, with the parts it was built from. */
export interface KubernetesEngine {
  readonly engine: Engine;
  readonly composed: ComposedEngine;
  readonly platform: KubernetesPlatform;
  readonly router: ServiceSelectorRouter;
  readonly store: AnnotationStateStore;
  readonly clients: KubeClients;
  /** Waits for scale-downs the engine has scheduled (the old colour kept warm) and reports being written, then closes. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `platform: kubernetes` as the CLI runs it: no daemon; each command builds this in its own process, and
 * everything it must share with other runners lives in the cluster (state on the active Service, history
 * in a ConfigMap, the deploy in progress as the lock). Creates the two Services if they are missing.
 * The engine itself is composed as on every platform (composeEngine): migrations, analysis, alerts, reports.
 */
export async function createKubernetesEngine(
  loaded: LoadedConfig,
  logger: Logger,
  extras: KubernetesEngineExtras = {},
): Promise<KubernetesEngine> {
  const parts = await kubernetesParts(loaded, logger, extras);
  const composed = await composeEngine(loaded, parts, logger);
  const refresher = loaded.config.analysis
    ? refreshEvery(parts.platform, loaded.config.analysis.interval)
    : null;
  const close = async () => {
    if (refresher) clearInterval(refresher);
    await composed.close(() => parts.platform.close());
  };
  return {
    engine: composed.engine,
    composed,
    platform: parts.platform,
    router: parts.router,
    store: parts.store,
    clients: parts.clients,
    settle: async () => {
      await composed.engine.scaleDownsDone();
      await parts.platform.settled();
      await composed.reports.idle();
      await close();
    },
    close,
  };
}

interface KubernetesParts extends PlatformParts {
  readonly platform: KubernetesPlatform;
  readonly router: ServiceSelectorRouter;
  readonly store: AnnotationStateStore;
  readonly clients: KubeClients;
}

/** The platform (Deployments), the data plane (the Services' selectors), the store (annotations) of a service. */
async function kubernetesParts(
  loaded: LoadedConfig,
  logger: Logger,
  extras: KubernetesEngineExtras,
): Promise<KubernetesParts> {
  const { config } = loaded;
  const kube = kubernetesSection(config, loaded.file);
  const clients = extras.clients ?? createKubeClients(loadKubeConfig(kube, loaded.dir), kube.namespace);
  const created = await ensureServices(clients, config, kube);
  if (created.length > 0) logger.info({ created }, "created the Services");
  const preview = previewAddress(loaded, kube.preview);
  const platform = new KubernetesPlatform({
    config,
    kube,
    clients,
    logger,
    ...(extras.pollMs === undefined ? {} : { pollMs: extras.pollMs }),
    // The preview is asked only where cutover was told it reaches it, or needs it anyway (smoke checks).
    previewUrl:
      kube.preview !== undefined || config.deploy.smoke.length > 0
        ? previewProbeUrl(preview, kube.switchProbe?.url)
        : null,
  });
  await platform.refresh();
  const readyTimeoutMs = config.deploy.readyTimeout;
  const router = await ServiceSelectorRouter.open({
    clients,
    service: config.service,
    probe: kube.switchProbe ?? null,
    versionOf: (colour) => platform.versionOf(colour),
    ...(kube.readinessGate
      ? {
          beforeSwitch: async (colour: Colour) =>
            void (await platform.openReadinessGate(colour, { timeoutMs: readyTimeoutMs })),
        }
      : {}),
    logger,
  });
  const released = await platform.releaseGates(router.active);
  if (released > 0)
    logger.info({ colour: router.active, pods: released }, "opened the readiness gate of live pods");
  const store = annotationStateStore({
    clients,
    service: config.service,
    historyLimit: kube.historyLimit,
    leaseMs: kube.lockLease,
    logger,
  });
  return {
    platform,
    router,
    store,
    clients,
    preview,
    analysis: {
      router: null,
      replicas: readyReplicas(platform),
      fetcher: new PodProxyFetcher(clients),
      versionOf: (colour) => platform.status(colour).version,
      mirror: null,
      previewJudge: true,
    },
    sampleSource: null,
    journals: new JournalConfigMaps({ clients, service: config.service, logger }),
  };
}

/** Where smoke checks reach the preview Service: `kubernetes.preview` (checked at load), else router.preview. */
function previewAddress(loaded: LoadedConfig, preview: string | undefined): Address {
  return (preview === undefined ? undefined : parseAddress(preview)) ?? loaded.config.router.preview;
}

/** The switch probe's path, asked through the preview Service. */
function previewProbeUrl(preview: Address, probeUrl: string | undefined): string | null {
  if (probeUrl === undefined) return null;
  const { pathname, search } = new URL(probeUrl);
  return httpUrl(preview, `${pathname}${search}`);
}

/** Re-reads the pods every `ms`, so the analysis scrapes the pods that run now (a rescheduled one, a scale-up). */
function refreshEvery(platform: KubernetesPlatform, ms: number): NodeJS.Timeout {
  const timer = setInterval(() => void platform.refresh().catch(() => {}), ms);
  timer.unref();
  return timer;
}
