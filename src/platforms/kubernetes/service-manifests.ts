import type { V1Service } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import { colourLabels, MANAGED_BY, names, PORT_NAME } from "./manifest-names.js";

export type ServiceRole = "active" | "preview";

/**
 * The active Service (users' traffic) or the preview Service (smoke checks), each selecting one colour by its
 * `version` label. Port `service.port` goes to the container port; annotations are passed through as they are.
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
  const annotations = role === "preview" ? (s.previewAnnotations ?? s.annotations) : s.annotations;
  const nodePort = role === "active" ? s.nodePort : s.previewNodePort;
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
      type: s.type,
      selector: colourLabels(service, colour),
      ports: [
        {
          name: PORT_NAME,
          port: s.port,
          targetPort: PORT_NAME,
          protocol: "TCP",
          ...(nodePort !== undefined && s.type !== "ClusterIP" ? { nodePort } : {}),
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
