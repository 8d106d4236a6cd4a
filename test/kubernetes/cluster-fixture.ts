/**
 * One service on the stand-in cluster, as a team would have it after `cutover render kubernetes |
 * kubectl create -f -`: blue serving 1.0.0 behind the active Service, green idle. Engines are built the way
 * the CLI builds them (createKubernetesEngine from a parsed cutover.yaml whose kubeconfig points at the
 * stand-in), one per simulated process.
 */
import { request } from "node:http";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  createKubernetesEngine,
  type KubernetesEngine,
  type KubernetesEngineExtras,
} from "../../src/compose/kubernetes-engine.js";
import { type LoadedConfig, parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/log.js";
import { renderManifests } from "../../src/platforms/kubernetes/render-manifests.js";
import { eventually } from "../helpers/eventually.js";
import type { BehaviourOf } from "./stand-in/cluster-simulator.js";
import type { JsonObject } from "./stand-in/json.js";
import type { PodEnv } from "./stand-in/process-kubelet.js";
import { StandIn, type StandInOptions } from "./stand-in/stand-in.js";

export interface FixtureOptions {
  readonly behaviour?: BehaviourOf;
  /** "processes": every pod is the demo app as a local process, reached through a real kube-proxy stand-in. */
  readonly pods?: "simulated" | "processes";
  /** With processes: environment a pod gets over its spec's (e.g. ERROR_RATIO for one version). */
  readonly env?: PodEnv;
  /** With processes: the Node.js script a pod's image stands for; default the demo app. */
  readonly programs?: StandInOptions["programs"];
  /** The path the switch probe asks through the active Service (default "/"). */
  readonly probePath?: string;
  /** Top-level sections merged into cutover.yaml (analysis, database, ...). */
  readonly sections?: Record<string, unknown>;
  /** Merged over the `kubernetes:` section. */
  readonly kubernetes?: Record<string, unknown>;
  /** Merged over the `deploy:` section. */
  readonly deploy?: Record<string, unknown>;
  readonly replicas?: number;
  /** How late kube-proxy follows a selector change on the active Service (default: the stand-in's). */
  readonly propagationMs?: number;
}

export interface ClusterFixture {
  readonly standIn: StandIn;
  readonly loaded: LoadedConfig;
  /** The cutover.yaml as text, for a test that runs the CLI itself (its kubeconfig path is absolute). */
  readonly yaml: string;
  readonly active: { host: string; port: number };
  readonly preview: { host: string; port: number };
  /** A new engine, as a new `cutover` process would build it (from another cutover.yaml for this cluster with `loaded`). */
  engine(extras?: KubernetesEngineExtras & { readonly loaded?: LoadedConfig }): Promise<KubernetesEngine>;
  close(): Promise<void>;
}

export async function startCluster(options: FixtureOptions = {}): Promise<ClusterFixture> {
  const { behaviour, pods, env, programs } = options;
  const standIn = await StandIn.start({
    ...(behaviour === undefined ? {} : { behaviour }),
    ...(pods === undefined ? {} : { pods }),
    ...(env === undefined ? {} : { env }),
    ...(programs === undefined ? {} : { programs }),
  });
  const active = await (options.propagationMs === undefined
    ? standIn.serviceAddress("shop")
    : standIn.serviceAddress("shop", options.propagationMs));
  const preview = await standIn.serviceAddress("shop-preview");
  const config = {
    service: "shop",
    version: "1.0.0",
    platform: "kubernetes",
    replicas: options.replicas ?? 2,
    start: { stopGrace: "5s" },
    health: { path: "/health", interval: "1s", timeout: "1s", startupGrace: "30s" },
    deploy: {
      readyTimeout: "8s",
      scaleDownDelay: "300ms",
      smoke: [{ http: { path: "/health", expectStatus: 200, bodyContains: "healthy", timeout: "2s" } }],
      ...options.deploy,
    },
    kubernetes: {
      namespace: standIn.namespace,
      kubeconfig: standIn.kubeconfig(),
      image: "registry.example.com/shop:{version}",
      preview: `${preview.host}:${preview.port}`,
      ...options.kubernetes,
      switchProbe: {
        answers: 5,
        interval: "20ms",
        timeout: "5s",
        ...(options.kubernetes?.switchProbe as object | undefined),
        url: `http://${active.host}:${active.port}${options.probePath ?? "/"}`,
      },
    },
  };
  const yaml = stringify({ ...config, ...options.sections });
  const loaded = parseConfig(yaml, join("/tmp", "cutover-k8s", "cutover.yaml"));
  await standIn.create(renderManifests(loaded.config));
  const gated = loaded.config.kubernetes?.readinessGate === true;
  await eventually(
    "blue serves 1.0.0",
    () => (gated ? containersReady(standIn, "blue") : readyPods(standIn, "blue")) === loaded.config.replicas,
    options.pods === "processes" ? 15_000 : 5_000,
  );
  standIn.catchUpServices();
  const engines: KubernetesEngine[] = [];
  return {
    standIn,
    loaded,
    yaml,
    active,
    preview,
    engine: async ({ loaded: other, ...extras } = {}) => {
      const built = await createKubernetesEngine(other ?? loaded, silentLogger(), { pollMs: 50, ...extras });
      engines.push(built);
      return built;
    },
    close: async () => {
      for (const e of engines) await e.close();
      await standIn.close();
    },
  };
}

export function readyPods(standIn: StandIn, colour: string): number {
  return colourPods(standIn, colour).filter((p) =>
    ((p.status as JsonObject)?.conditions as JsonObject[] | undefined)?.some(
      (c) => c.type === "Ready" && c.status === "True",
    ),
  ).length;
}

/** Pods of a colour whose containers are ready (with a readiness gate, before it is opened). */
export function containersReady(standIn: StandIn, colour: string): number {
  return colourPods(standIn, colour).filter((p) =>
    ((p.status as JsonObject)?.conditions as JsonObject[] | undefined)?.some(
      (c) => c.type === "ContainersReady" && c.status === "True",
    ),
  ).length;
}

function colourPods(standIn: StandIn, colour: string): JsonObject[] {
  return standIn.server.store
    .list("pods", standIn.namespace)
    .filter((p) => ((p.metadata as JsonObject).labels as JsonObject | undefined)?.version === colour)
    .filter((p) => !(p.metadata as JsonObject).deletionTimestamp);
}

export function selectorOf(standIn: StandIn, service: string): JsonObject {
  const spec = (standIn.get("services", service)?.spec ?? {}) as JsonObject;
  return (spec.selector as JsonObject | undefined) ?? {};
}

/** The deploys in the history ConfigMap. */
export function historyOf(standIn: StandIn): { id: string; phase: string }[] {
  const data = (standIn.get("configmaps", "shop-cutover-history")?.data ?? {}) as JsonObject;
  return JSON.parse(String(data["history.json"] ?? "[]"));
}

export function replicasOf(standIn: StandIn, plural: string, name: string, field = "replicas"): unknown {
  return (standIn.get(plural, name)?.spec as JsonObject | undefined)?.[field];
}

/** The versions that answer through a Service, each request on a new connection (as a new client would). */
export async function versionsThrough(
  address: { host: string; port: number },
  requests = 10,
): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < requests; i++) seen.push(await askOnce(address));
  return seen;
}

function askOnce(address: { host: string; port: number }): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: address.host, port: address.port, path: "/", agent: false }, (res) => {
      res.resume();
      const version = res.headers["x-app-version"];
      resolve(typeof version === "string" ? version : `status ${res.statusCode}`);
    });
    req.on("error", (error) => resolve(`failed: ${error.message}`));
    req.end();
  });
}
