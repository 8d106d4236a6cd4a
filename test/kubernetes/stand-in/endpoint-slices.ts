/**
 * What the EndpointSlice controller publishes for a Service and which endpoints kube-proxy sends a new
 * connection to, as upstream does it (kubernetes staging/src/k8s.io/endpointslice: ShouldPodBeInEndpoints,
 * podToEndpoint; pkg/proxy/topology.go CategorizeEndpoints; KEP-1672 and KEP-1669; the Service's
 * `publishNotReadyAddresses` in [CORE]):
 *
 * - the endpoints are the pods the Service's selector picks (an empty selector picks none: such a Service
 *   has hand-made endpoints) that have an IP and are not Succeeded or Failed, terminating ones included;
 * - each has serving = the pod is Ready, terminating = it has a deletionTimestamp, and
 *   ready = publishNotReadyAddresses || (serving && !terminating);
 * - the port is the Service's first port's targetPort (default: its port); a name is looked up among the
 *   pod's container ports, and a pod without a port of that name is left out;
 * - kube-proxy uses the ready endpoints; when there are none, the serving terminating ones; else none.
 */
import { isObject, type JsonObject, num } from "./json.js";
import { meta, nameOf } from "./object-store.js";
import { isReady } from "./pod-conditions.js";
import { namedPort, podIPOf } from "./pod-fields.js";
import { selects } from "./selectors.js";

export interface Endpoint {
  readonly pod: string;
  readonly ip: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export function endpointsOf(service: JsonObject | null, pods: readonly JsonObject[]): Endpoint[] {
  const spec = service && isObject(service.spec) ? service.spec : null;
  if (!spec) return [];
  const selector = isObject(spec.selector) ? spec.selector : undefined;
  const publishNotReady = spec.publishNotReadyAddresses === true;
  return pods.flatMap((pod) => {
    const ip = podIPOf(pod);
    const port = targetPort(spec, pod);
    if (!selects(selector, pod) || !ip || port === null || isTerminal(pod)) return [];
    const serving = isReady(pod);
    const terminating = Boolean(meta(pod).deletionTimestamp);
    const ready = publishNotReady || (serving && !terminating);
    return [{ pod: nameOf(pod), ip, port, ready, serving, terminating }];
  });
}

/** The endpoints kube-proxy picks a new connection's backend from. */
export function usable(endpoints: readonly Endpoint[]): Endpoint[] {
  const ready = endpoints.filter((e) => e.ready);
  return ready.length > 0 ? ready : endpoints.filter((e) => e.serving && e.terminating);
}

function isTerminal(pod: JsonObject): boolean {
  const phase = isObject(pod.status) ? pod.status.phase : undefined;
  return phase === "Succeeded" || phase === "Failed";
}

function targetPort(spec: JsonObject, pod: JsonObject): number | null {
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const first = isObject(ports[0]) ? ports[0] : {};
  const target = first.targetPort ?? first.port;
  if (typeof target === "string") return /^\d+$/.test(target) ? Number(target) : namedPort(pod, target);
  return num(target) ?? null;
}
