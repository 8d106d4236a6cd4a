import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { RouterMetricSource } from "../analysis/sources/router-metric-source.js";
import type { RegionConfig } from "../config/fleet-schema.js";
import type { LoadedConfig } from "../config/load.js";
import { AdminClient } from "../control/admin-client.js";
import type { ControlPlane } from "../control/control-plane.js";
import { DaemonControl } from "../control/daemon-control.js";
import { EngineControl } from "../control/engine-control.js";
import { CutoverError } from "../errors.js";
import type { KubeClients } from "../platforms/kubernetes/kube-clients.js";
import type { Region } from "./region.js";

/** Test seams: Kubernetes clients per region (stand-in API servers). */
export interface RegionExtras {
  readonly kubernetesClients?: (region: string) => KubeClients;
}

/** The regions cutover.yaml names, each with its control plane; close() ends what was opened here. */
export async function regionsFor(
  loaded: LoadedConfig,
  logger: Logger,
  extras: RegionExtras = {},
): Promise<Region[]> {
  const configs = loaded.config.regions;
  if (!configs)
    throw new CutoverError("BAD_ARGUMENT", `${loaded.file} has no regions:; this is a single-region service`);
  const regions: Region[] = [];
  try {
    for (const config of configs)
      regions.push(
        config.admin
          ? adminRegion(loaded, config)
          : await kubernetesRegion(loaded, config, logger, extras, { signalsToOwner: true }),
      );
  } catch (error) {
    await Promise.allSettled(regions.map((r) => r.control.close()));
    throw error;
  }
  return regions;
}

/** One region of cutover.yaml (`--region NAME`), opened alone. */
export async function regionNamed(
  loaded: LoadedConfig,
  name: string,
  logger: Logger,
  extras: RegionExtras = {},
): Promise<Region> {
  const configs = loaded.config.regions ?? [];
  const config = configs.find((r) => r.name === name);
  if (!config)
    throw new CutoverError(
      "BAD_ARGUMENT",
      `--region ${name}: no such region in ${loaded.file}${configs.length > 0 ? ` (regions are ${configs.map((r) => r.name).join(", ")})` : " (it has no regions:)"}`,
    );
  // One region alone (--region): its engine handles Ctrl-C as on a single cluster.
  return config.admin
    ? adminRegion(loaded, config)
    : kubernetesRegion(loaded, config, logger, extras, { signalsToOwner: false });
}

function adminRegion(loaded: LoadedConfig, config: RegionConfig): Region {
  const admin = config.admin as NonNullable<RegionConfig["admin"]>;
  const ca = admin.ca ? readCa(resolve(loaded.dir, admin.ca), config.name) : undefined;
  const client = new AdminClient(admin.url, admin.token, { ca });
  return {
    name: config.name,
    control: new DaemonControl(client),
    metrics: new RouterMetricSource({ metrics: () => client.text("/metrics") }),
    where: client.base,
  };
}

function readCa(path: string, region: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `regions (${region}): admin.ca ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); give the PEM file of the CA that signed the region's certificate`,
    );
  }
}

/**
 * A Kubernetes region: the same service, with the region's context, namespace, replicas and autoscaling.
 * Its kubeconfig (relative to cutover.yaml) and context are read here, so a mistake in them is the config's
 * (exit 2). A cluster that does not answer makes a region whose every call says why, instead of failing
 * the whole fleet: `cutover status` still shows the other regions, `cutover abort` still sends them back,
 * and a deploy is refused before any region is touched (as for a region whose daemon is down).
 */
async function kubernetesRegion(
  loaded: LoadedConfig,
  config: RegionConfig,
  logger: Logger,
  extras: RegionExtras,
  /** In a fleet, the runner handles SIGINT and SIGTERM (it halts every region); alone, the engine does. */
  options: { readonly signalsToOwner: boolean },
): Promise<Region> {
  // Loaded here, not at the top: a fleet of daemons never loads the Kubernetes client.
  const [{ createKubernetesEngine }, { createKubeClients, loadKubeConfig }, { kubernetesSection }] =
    await Promise.all([
      import("../compose/kubernetes-engine.js"),
      import("../platforms/kubernetes/kube-clients.js"),
      import("../platforms/kubernetes/render-manifests.js"),
    ]);
  const regional = regionalConfig(loaded, config);
  const kube = kubernetesSection(regional.config, loaded.file);
  const clients =
    extras.kubernetesClients?.(config.name) ??
    createKubeClients(loadKubeConfig(kube, loaded.dir), kube.namespace);
  const where = clusterOf(clients);
  const built = await createKubernetesEngine(regional, logger.child({ region: config.name }), {
    clients,
  }).catch((error: unknown) => {
    if (error instanceof CutoverError && error.code === "KUBERNETES_API") return error;
    throw error;
  });
  if (built instanceof CutoverError) return unreachable(config.name, where, built);
  const sampler = built.composed.sampler;
  return {
    name: config.name,
    control: new EngineControl({
      signalsToOwner: options.signalsToOwner,
      engine: built.engine,
      finish: () => built.settle(),
      leave: () => built.close(),
    }),
    metrics: sampler ? sampler.source : unmeasured(config.name),
    where,
  };
}

/** The context, API server and namespace a region's clients use, for messages. */
function clusterOf(clients: KubeClients): string {
  const server = clients.config.getCurrentCluster()?.server;
  return `kubernetes context ${clients.config.getCurrentContext()}${server ? ` (${server})` : ""}, namespace ${clients.namespace}`;
}

/** A region whose cluster did not answer when the fleet was opened: every call rejects with why. */
function unreachable(name: string, where: string, error: CutoverError): Region {
  const refuse = async (): Promise<never> => {
    throw error;
  };
  const control: ControlPlane = {
    status: refuse,
    history: refuse,
    start: refuse,
    follow: () => ({ [Symbol.asyncIterator]: () => ({ next: refuse }) }),
    promote: refuse,
    abort: refuse,
    pause: refuse,
    resume: refuse,
    close: async () => {},
  };
  return { name, control, metrics: { kind: "none", read: refuse }, where };
}

/** The config one region runs: the fleet's, with the region's overrides, and no fleet sections of its own. */
export function regionalConfig(loaded: LoadedConfig, region: RegionConfig): LoadedConfig {
  const { regions: _regions, waves: _waves, globalFront: _front, ...config } = loaded.config;
  const base = config.kubernetes;
  const own = region.kubernetes ?? {};
  const kubernetes = base && {
    ...base,
    namespace: own.namespace ?? base.namespace,
    context: own.context ?? base.context,
    kubeconfig: own.kubeconfig ?? base.kubeconfig,
    preview: own.preview ?? base.preview,
    switchProbe: own.switchProbe ?? base.switchProbe,
    autoscaling: region.autoscaling ?? base.autoscaling,
  };
  return {
    ...loaded,
    config: { ...config, replicas: region.replicas ?? config.replicas, kubernetes },
  };
}

function unmeasured(region: string): Region["metrics"] {
  return {
    kind: "none",
    read: async () => {
      throw new Error(`region ${region} has no metric source (analysis: is not set)`);
    },
  };
}
