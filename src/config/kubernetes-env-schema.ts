import { z } from "zod";

/**
 * The container environment settings of `kubernetes:`: `env` and `envFrom` in Kubernetes' own shape, and
 * `database`, where pods read DATABASE_URL. Each entry is checked as the API server would (one source per
 * entry, valid names), with messages that say what to write. Optional fields are `exactOptional`: a key
 * is absent or set, never undefined, so the parsed entries are @kubernetes/client-node's V1EnvVar and
 * V1EnvFromSource as they are.
 */

/** A Secret's or ConfigMap's name (a DNS subdomain). */
const objectName = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "expected an object name: lower-case letters, digits, dashes and dots",
  );

/** A key in a Secret or ConfigMap. */
const dataKey = z
  .string()
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, "expected a key of letters, digits, dashes, underscores and dots");

const envName = z
  .string()
  .regex(
    /^[-._a-zA-Z][-._a-zA-Z0-9]*$/,
    "expected an environment variable name such as LOG_LEVEL (letters, digits, _ - .; not starting with a digit)",
  );

/** Exactly one of `keys` is set on the object. */
const exactlyOne =
  <T extends object>(keys: readonly (keyof T & string)[]) =>
  (value: T, ctx: z.RefinementCtx) => {
    const set = keys.filter((k) => value[k] !== undefined);
    if (set.length === 1) return;
    const which = set.length === 0 ? "none is set" : `${set.join(" and ")} are set`;
    ctx.addIssue({
      code: "custom",
      input: value,
      message: `expected exactly one of ${keys.slice(0, -1).join(", ")} or ${keys.at(-1)}; ${which}`,
    });
  };

const keyRef = (of: string) =>
  z
    .strictObject({
      name: objectName.meta({ description: `The ${of}'s name.` }),
      key: dataKey.meta({ description: `The key in the ${of}.` }),
      optional: z
        .boolean()
        .exactOptional()
        .meta({ description: `Start even when the ${of} or key is missing.` }),
    })
    .meta({ description: `One key of a ${of} in the namespace.` });

const envSource = z
  .strictObject({
    secretKeyRef: keyRef("Secret").exactOptional(),
    configMapKeyRef: keyRef("ConfigMap").exactOptional(),
    fieldRef: z
      .strictObject({
        fieldPath: z
          .string()
          .min(1)
          .meta({ description: 'A pod field, such as "metadata.name" or "status.podIP".' }),
        apiVersion: z
          .string()
          .min(1)
          .exactOptional()
          .meta({ description: 'The fieldPath\'s schema version; default "v1".' }),
      })
      .exactOptional()
      .meta({ description: "A field of the pod." }),
  })
  .superRefine(exactlyOne(["secretKeyRef", "configMapKeyRef", "fieldRef"]))
  .meta({ description: "Where the value comes from: one of secretKeyRef, configMapKeyRef or fieldRef." });

const envVar = z
  .strictObject({
    name: envName.meta({ description: "The variable's name." }),
    value: z
      .string({ error: 'expected a string (quote numbers and booleans, such as "8080")' })
      .exactOptional()
      .meta({ description: "A plain value; {version} and {port} are replaced, as in start.env." }),
    valueFrom: envSource.exactOptional(),
  })
  .superRefine(exactlyOne(["value", "valueFrom"]))
  .meta({
    description: "{ name, value } or { name, valueFrom: { secretKeyRef | configMapKeyRef | fieldRef } }.",
  });

const sourceRef = (of: string) =>
  z
    .strictObject({
      name: objectName.meta({ description: `The ${of}'s name.` }),
      optional: z
        .boolean()
        .exactOptional()
        .meta({ description: `Start even when the ${of} is missing.` }),
    })
    .meta({ description: `Every key of this ${of} becomes a variable.` });

const envFromSource = z
  .strictObject({
    prefix: envName.exactOptional().meta({ description: "Put before every name taken from the source." }),
    secretRef: sourceRef("Secret").exactOptional(),
    configMapRef: sourceRef("ConfigMap").exactOptional(),
  })
  .superRefine(exactlyOne(["secretRef", "configMapRef"]))
  .meta({ description: "{ secretRef: { name } } or { configMapRef: { name } }, with an optional prefix." });

export const databaseSecretSchema = z
  .strictObject({
    secret: z
      .strictObject({
        name: objectName.meta({ description: "The Secret's name (you create and keep it)." }),
        key: dataKey.default("url").meta({ description: 'The key that holds the URL; default "url".' }),
      })
      .meta({
        description:
          "A Secret holding the database URL the pods use (e.g. an in-cluster host), without `options`: the colour's search_path reaches them as PGOPTIONS.",
      }),
  })
  .meta({
    description:
      "Where pods read DATABASE_URL. Without it cutover keeps a Secret {service}-database (key url) with the migrator's URL, its options moved to PGOPTIONS; either way the URL is never a plain value in a Deployment.",
  });

export const envSchema = z.array(envVar).default([]).meta({
  description:
    "More container environment, in Kubernetes' own shape; after start.env, before what cutover sets per colour (a name given twice: the later wins).",
});

export const envFromSchema = z.array(envFromSource).default([]).meta({
  description: "Whole Secrets or ConfigMaps as environment, in Kubernetes' own shape.",
});
