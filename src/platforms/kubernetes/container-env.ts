import type { V1EnvVar } from "@kubernetes/client-node";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
import type { ColourSpec } from "./colour-spec.js";
import { secretSource } from "./database-secret-manifest.js";
import { DATABASE_URL, splitSecretEnv } from "./secret-env.js";

export interface ContainerEnv {
  /** The container's `env`. */
  readonly env: V1EnvVar[];
  /** The values it reads from cutover's Secret (variable name → value), which start() writes first. */
  readonly secret: Readonly<Record<string, string>>;
}

/**
 * A colour's container environment, in order: APP_VERSION, ENVIRONMENT (the colour) and PORT; `start.env`;
 * `kubernetes.env`; then `spec.env` (what the engine passes per colour, e.g. the migrator's). {version} and
 * {port} are replaced in the plain values of the two config sections. A name given twice keeps its first
 * place and takes the later value. No database URL or password stays a plain value (see secret-env.ts): it
 * is read from a Secret, and DATABASE_URL from `kubernetes.database.secret` whenever that is set.
 */
export function containerEnv(config: Config, kube: KubernetesConfig, spec: ColourSpec): ContainerEnv {
  const port = String(kube.containerPort);
  const fill = (value: string) => value.replaceAll("{version}", spec.version).replaceAll("{port}", port);
  const env = new Map<string, V1EnvVar>();
  const put = (entry: V1EnvVar) => env.set(entry.name, entry);
  const putPlain = (values: Readonly<Record<string, string>>, map = (v: string) => v) => {
    for (const [name, value] of Object.entries(values)) put({ name, value: map(value) });
  };
  putPlain({ APP_VERSION: spec.version, ENVIRONMENT: spec.colour, PORT: port });
  putPlain(config.start.env, fill);
  for (const entry of kube.env)
    put(entry.value === undefined ? entry : { ...entry, value: fill(entry.value) });
  putPlain(spec.env ?? {});
  const { plain, secret } = splitSecretEnv(plainValues(env));
  putPlain(plain);
  const source = (name: string) => secretSource(config.service, spec.colour, kube, name);
  for (const name of Object.keys(secret)) put({ name, valueFrom: source(name) });
  if (kube.database) put({ name: DATABASE_URL, valueFrom: source(DATABASE_URL) });
  return { env: [...env.values()], secret };
}

function plainValues(env: ReadonlyMap<string, V1EnvVar>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { name, value } of env.values()) if (value !== undefined) values[name] = value;
  return values;
}
