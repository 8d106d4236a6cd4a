import type { V1Probe } from "@kubernetes/client-node";
import type { HealthConfig } from "../../config/schema.js";
import { PORT_NAME } from "./manifest-names.js";

export interface ContainerProbes {
  readonly readinessProbe: V1Probe;
  readonly startupProbe: V1Probe;
  readonly livenessProbe?: V1Probe;
}

/**
 * The top-level `health:` section as Kubernetes probes, with the same meaning the local platform gives it:
 * readiness every `interval` (successThreshold / failureThreshold), a startup probe that allows `startupGrace`,
 * and a liveness probe only when `restartAfterFailures` > 0. Probe fields are whole seconds (at least 1);
 * startup and liveness probes must have successThreshold 1.
 */
export function probesFor(health: HealthConfig, containerPort: number): ContainerProbes {
  const periodSeconds = Math.max(1, Math.round(health.interval / 1000));
  const timeoutSeconds = Math.max(1, Math.ceil(health.timeout / 1000));
  const base = { ...probeAction(health, containerPort), periodSeconds, timeoutSeconds };
  const readinessProbe: V1Probe = {
    ...base,
    successThreshold: health.successThreshold,
    failureThreshold: health.failureThreshold,
  };
  const startupProbe: V1Probe = {
    ...base,
    successThreshold: 1,
    failureThreshold: Math.max(1, Math.ceil(health.startupGrace / (periodSeconds * 1000))),
  };
  if (health.restartAfterFailures === 0) return { readinessProbe, startupProbe };
  const livenessProbe: V1Probe = {
    ...base,
    successThreshold: 1,
    failureThreshold: health.restartAfterFailures,
  };
  return { readinessProbe, startupProbe, livenessProbe };
}

/**
 * What each probe does: GET health.path on the named port, or with health.grpc the kubelet's own gRPC health
 * check (Kubernetes 1.24+), whose port must be a number.
 */
function probeAction(health: HealthConfig, containerPort: number): Pick<V1Probe, "httpGet" | "grpc"> {
  if (health.grpc) return { grpc: { port: containerPort, service: health.grpc.service } };
  return { httpGet: { path: health.path, port: PORT_NAME } };
}
