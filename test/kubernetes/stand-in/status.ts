/**
 * Status bodies as apimachinery pkg/api/errors/errors.go builds them ([ERR]); the messages are the
 * upstream format strings.
 */
import type { JsonObject } from "./json.js";
import type { ResourceInfo } from "./resources.js";

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: JsonObject,
  ) {
    super(String(body.message));
  }
}

function status(code: number, reason: string, message: string, details?: JsonObject): ApiError {
  return new ApiError(code, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

const groupOf = (info: ResourceInfo): JsonObject => (info.group ? { group: info.group } : {});

/** `services "web"` or `deployments.apps "web"`: the qualified resource. */
export const qualified = (info: ResourceInfo, name: string) =>
  `${info.plural}${info.group ? `.${info.group}` : ""} "${name}"`;

export const notFound = (info: ResourceInfo, name: string) =>
  status(404, "NotFound", `${qualified(info, name)} not found`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });

export const alreadyExists = (info: ResourceInfo, name: string) =>
  status(409, "AlreadyExists", `${qualified(info, name)} already exists`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });

/** [ERR NewConflict] with [STORE] OptimisticLockErrorMsg. */
export const conflict = (info: ResourceInfo, name: string) =>
  status(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(info, name)}: the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...groupOf(info), kind: info.plural },
  );

/** [CONF] NewApplyConflict: no details.name, one cause per field. */
export const applyConflict = (message: string, causes: readonly { message: string; field: string }[]) =>
  status(409, "Conflict", message, {
    causes: causes.map((c) => ({ reason: "FieldManagerConflict", message: c.message, field: c.field })),
  });

export interface Cause {
  readonly field: string;
  readonly type: "Invalid value" | "Required value" | "Forbidden" | "Too long" | "Unsupported value";
  /** The offending value, already rendered as Go prints it; omitted for Required and Forbidden. */
  readonly value?: string;
  readonly detail: string;
}

const REASONS: Readonly<Record<Cause["type"], string>> = {
  "Invalid value": "FieldValueInvalid",
  "Required value": "FieldValueRequired",
  Forbidden: "FieldValueForbidden",
  "Too long": "FieldValueTooLong",
  "Unsupported value": "FieldValueNotSupported",
};

function causeText(c: Cause): string {
  return `${c.field}: ${c.type}: ${c.value !== undefined ? `${c.value}: ` : ""}${c.detail}`;
}

/** [ERR NewInvalid]: `Kind[.group] "name" is invalid: <field>: <Type>: <value>: <detail>`, several as [e1, e2]. */
export function invalid(
  kindQualified: string,
  name: string,
  info: { group: string; kind: string },
  causes: readonly Cause[],
): ApiError {
  const texts = causes.map(causeText);
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(", ")}]`;
  return status(422, "Invalid", `${kindQualified} "${name}" is invalid: ${joined}`, {
    name,
    ...(info.group ? { group: info.group } : {}),
    kind: info.kind,
    causes: causes.map((c) => ({
      reason: REASONS[c.type],
      message: causeText(c).slice(c.field.length + 2),
      field: c.field,
    })),
  });
}

export const unsupportedMediaType = () =>
  status(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  );

export const badRequest = (message: string) => status(400, "BadRequest", message);
export const unprocessable = (message: string) => status(422, "Invalid", message);
export const tooLarge = (message: string) => status(413, "RequestEntityTooLarge", message);
export const unauthorized = () => status(401, "Unauthorized", "Unauthorized");
export const methodNotAllowed = (verb: string) =>
  status(
    405,
    "MethodNotAllowed",
    `the server does not allow this method on the requested resource (${verb})`,
  );
export const notFoundPath = (path: string) =>
  status(404, "NotFound", `the server could not find the requested resource (${path})`);

/** The ERROR event a watch sends when its resourceVersion was compacted away ([CACHER]). */
export const expiredEvent = (asked: string, oldest: number): JsonObject => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: `too old resource version: ${asked} (${oldest})`,
  reason: "Expired",
  code: 410,
});

/** [ERR NewServiceUnavailable]: e.g. the pod proxy could not reach the pod. */
export const serviceUnavailable = (message: string) => status(503, "ServiceUnavailable", message);
