import type { V1Service } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import { colourLabels, MANAGED_BY, names, PORT_NAME } from "./manifest-names.js";

export type ServiceRole = "active" | "preview";

/**
 * The active Service (users' traffic) or the preview Service (smoke checks), each selecting one colour by its
 * `version` label. Port `service.port` goes to the container port. Type, node port and annotations are each
 * Service's own: the active one's from `service`, the preview one's from `service.preview` (ClusterIP with no
 * annotations unless set there), so the idle colour is never published by a public load balancer by accident.
 * With the readiness gate on, the preview Service also publishes pods that wait for the gate: those are the
 * ones the pre-switch checks must reach.
 */
export function serviceManifest(
  service: string,
  kube: KubernetesConfig,
  role: ServiceRole,
  colour: Colour,
): V1Service {
  const s = kube.service;
  const { type, annotations, nodePort } = role === "active" ? s : s.preview;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: role === "active" ? names.activeService(service) : names.previewService(service),
      namespace: kube.namespace,
      labels: { app: service, "cutover.dev/role": role, ...MANAGED_BY },
      ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    },
    spec: {
      type,
      selector: colourLabels(service, colour),
      ports: [
        {
          name: PORT_NAME,
          port: s.port,
          targetPort: PORT_NAME,
          protocol: "TCP",
          ...(nodePort !== undefined && type !== "ClusterIP" ? { nodePort } : {}),
        },
      ],
      sessionAffinity: s.sessionAffinity,
      ...(s.sessionAffinity === "ClientIP" && s.sessionAffinityTimeout !== undefined
        ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: s.sessionAffinityTimeout } } }
        : {}),
      ...(role === "preview" && kube.readinessGate ? { publishNotReadyAddresses: true } : {}),
    },
  };
}
