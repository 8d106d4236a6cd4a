/** Reading a pod: its containers, their ports ([CORE] Container, ContainerPort) and its IP. */
import { isObject, type JsonObject, str } from "./json.js";

export function firstContainer(pod: JsonObject): JsonObject {
  const containers = containersOf(pod);
  return isObject(containers[0]) ? containers[0] : {};
}

export const containerName = (pod: JsonObject) => str(firstContainer(pod).name) ?? "app";
export const imageOf = (pod: JsonObject) => str(firstContainer(pod).image) ?? "";

/** The containerPort of the port with this name in any container, as a named targetPort resolves. */
export function namedPort(pod: JsonObject, name: string): number | null {
  for (const c of containersOf(pod)) {
    const ports = isObject(c) && Array.isArray(c.ports) ? c.ports : [];
    const found = ports.find((p) => isObject(p) && p.name === name);
    if (isObject(found) && typeof found.containerPort === "number") return found.containerPort;
  }
  return null;
}

/** The first containerPort of any container, as the pod proxy takes when the request names no port. */
export function firstPort(pod: JsonObject): number | null {
  for (const c of containersOf(pod)) {
    const ports = isObject(c) && Array.isArray(c.ports) ? c.ports : [];
    const port = isObject(ports[0]) ? ports[0].containerPort : undefined;
    if (typeof port === "number") return port;
  }
  return null;
}

function containersOf(pod: JsonObject): readonly unknown[] {
  return isObject(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
}

/** The pod's IP: status.podIPs[0], else status.podIP (what the pod proxy and EndpointSlices read). */
export function podIPOf(pod: JsonObject): string | undefined {
  const status = isObject(pod.status) ? pod.status : {};
  const first = Array.isArray(status.podIPs) && isObject(status.podIPs[0]) ? status.podIPs[0] : {};
  return str(first.ip) ?? str(status.podIP);
}
