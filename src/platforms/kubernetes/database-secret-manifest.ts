import type { V1EnvVarSource, V1Secret } from "@kubernetes/client-node";
import type { Colour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import { MANAGED_BY } from "./manifest-names.js";
import { DATABASE_URL } from "./secret-env.js";

/**
 * The Secret cutover keeps for one colour: DATABASE_URL under `url`, any other secret value under its own
 * name. One per colour, so a deploy never changes what the live colour's pods read when they restart.
 */
export const databaseSecretName = (service: string, colour: Colour) => `${service}-${colour}-cutover-env`;

const keyOf = (name: string) => (name === DATABASE_URL ? "url" : name);

/** Where a variable that must not be plain is read from: `kubernetes.database.secret` for DATABASE_URL when set, else cutover's Secret. */
export function secretSource(
  service: string,
  colour: Colour,
  kube: KubernetesConfig,
  name: string,
): V1EnvVarSource {
  const own = kube.database?.secret;
  if (name === DATABASE_URL && own) return { secretKeyRef: { name: own.name, key: own.key } };
  return { secretKeyRef: { name: databaseSecretName(service, colour), key: keyOf(name) } };
}

/**
 * cutover's Secret holding `values` (variable name → value), or null when it would hold nothing (no such
 * value, or only DATABASE_URL while `kubernetes.database.secret` names the user's own Secret).
 */
export function databaseSecretManifest(
  service: string,
  colour: Colour,
  kube: KubernetesConfig,
  values: Readonly<Record<string, string>>,
): V1Secret | null {
  const data: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name === DATABASE_URL && kube.database) continue;
    data[keyOf(name)] = Buffer.from(value, "utf8").toString("base64");
  }
  if (Object.keys(data).length === 0) return null;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: databaseSecretName(service, colour),
      namespace: kube.namespace,
      labels: { app: service, ...MANAGED_BY },
    },
    type: "Opaque",
    data,
  };
}
