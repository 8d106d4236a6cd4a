import { resolve } from "node:path";
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import { CutoverError } from "../../errors.js";
import { KubernetesApiError } from "./errors.js";

/** The API groups the driver calls, bound to one kubeconfig context and one namespace. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly policy: PolicyV1Api;
  readonly watch: Watch;
}

/**
 * The kubeconfig from `kubernetes.kubeconfig` (relative to cutover.yaml), else the usual places as kubectl
 * reads them: $KUBECONFIG, ~/.kube/config, then the in-cluster service account. `kubernetes.context` picks
 * a context other than the current one.
 */
export function loadKubeConfig(
  kube: Pick<KubernetesConfig, "kubeconfig" | "context">,
  dir = ".",
): KubeConfig {
  const config = new KubeConfig();
  if (kube.kubeconfig) config.loadFromFile(resolve(dir, kube.kubeconfig));
  else config.loadFromDefault();
  if (kube.context) {
    const known = config.getContexts().map((c) => c.name);
    if (!known.includes(kube.context)) {
      throw new CutoverError(
        "KUBERNETES_CONTEXT",
        `kubernetes.context is "${kube.context}", which the kubeconfig does not have (it has: ${known.join(", ") || "none"}); fix kubernetes.context or the kubeconfig`,
      );
    }
    config.setCurrentContext(kube.context);
  }
  if (
    config.getCurrentCluster()?.server === "http://localhost:8080" &&
    config.getCurrentUser()?.name === "user"
  ) {
    throw new CutoverError(
      "KUBERNETES_NO_KUBECONFIG",
      "no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster; set KUBECONFIG or kubernetes.kubeconfig",
    );
  }
  return config;
}

export function createKubeClients(config: KubeConfig, namespace: string): KubeClients {
  return {
    config,
    namespace,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    autoscaling: config.makeApiClient(AutoscalingV2Api),
    policy: config.makeApiClient(PolicyV1Api),
    watch: new Watch(config),
  };
}

/**
 * Content types for PATCH. client-node sends JSON Patch unless told otherwise, so every patch names its type.
 */
export const patchAs = {
  merge: () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  strategic: () => setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
  apply: () => setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
} as const;

/** The HTTP status of a failed API call, or null when it never got an answer. */
export function apiStatus(error: unknown): number | null {
  if (error instanceof ApiException) return error.code;
  if (error instanceof KubernetesApiError) return error.status;
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : null;
}

export const isConflict = (error: unknown) => apiStatus(error) === 409;
export const isNotFound = (error: unknown) => apiStatus(error) === 404;

/** The Status message the API server sent, or the error's own message. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    try {
      const status = JSON.parse(String(error.body)) as { message?: unknown };
      if (typeof status.message === "string") return `${error.code}: ${status.message}`;
    } catch {
      // not a Status body
    }
    return `HTTP ${error.code}`;
  }
  const cause = (error as Error).cause;
  return cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message;
}

/** Runs one API call; a failure becomes a KubernetesApiError saying what was attempted and what to do. */
export async function callApi<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CutoverError) throw error;
    throw new KubernetesApiError(what, apiStatus(error), apiMessage(error));
  }
}
