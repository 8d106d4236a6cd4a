import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import type { AcmeConfig } from "../config/acme-schema.js";
import type { Address } from "../config/address.js";
import { ConfigError } from "../errors.js";
import type { CertificateFiles } from "../router/tls-certificates.js";
import { type EdgeServiceEntry, edgeSchema } from "./edge-schema.js";
import { readServiceRouter } from "./service-router-address.js";

/** The edge's file when -c names none, looked for in the working directory. */
export const EDGE_FILE = "cutover-edge.yaml";

/** One service behind the edge, its router's address resolved. */
export interface EdgeServiceSettings {
  readonly name: string;
  /** Where its router listens. */
  readonly upstream: Address;
  /** Lower case, no trailing dot: exact names, "*.example.com", or "*". */
  readonly hosts: readonly string[];
  /** "/" or a prefix without a trailing slash. */
  readonly pathPrefix: string;
  readonly stripPrefix: boolean;
}

export interface EdgeTlsSettings {
  readonly listen: Address;
  /** Paths resolved against the edge's file. */
  readonly certificates: readonly CertificateFiles[];
  readonly redirectHttp: boolean;
  /** tls.acme, its directoryCa path resolved against the edge's file; null without it. */
  readonly acme: AcmeConfig | null;
}

/** A validated cutover-edge.yaml, every path resolved and every service's router found. */
export interface EdgeSettings {
  readonly file: string;
  readonly listen: Address | null;
  readonly tls: EdgeTlsSettings | null;
  readonly metrics: Address | null;
  readonly drainTimeoutMs: number;
  readonly services: readonly EdgeServiceSettings[];
}

/** The edge's file: the one -c names, else cutover-edge.yaml in `cwd`. */
export function findEdgeFile(flag: string | undefined, cwd = process.cwd()): string {
  if (flag !== undefined) return resolve(cwd, flag);
  const file = resolve(cwd, EDGE_FILE);
  if (!existsSync(file))
    throw new ConfigError(file, [
      `no ${EDGE_FILE} in ${cwd}; write one (README, "Several services on one machine", has an example) or name it with -c <file>`,
    ]);
  return file;
}

export function loadEdgeConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): EdgeSettings {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [
      code === "ENOENT"
        ? `the file does not exist; write it (README, "Several services on one machine") or name another with -c <file>`
        : String(error),
    ]);
  }
  return parseEdgeConfig(text, path, env);
}

export function parseEdgeConfig(
  text: string,
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): EdgeSettings {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0)
    throw new ConfigError(
      path,
      document.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`),
    );
  const parsed = edgeSchema.safeParse(document.toJS() ?? {}, { reportInput: true });
  if (!parsed.success) throw new ConfigError(path, parsed.error.issues.map(describeIssue));
  const edge = parsed.data;
  const dir = dirname(path);
  const problems: string[] = [];
  const services: EdgeServiceSettings[] = [];
  edge.services.forEach((entry, index) => {
    const resolved = resolveService(entry, index, dir, env);
    if (Array.isArray(resolved)) problems.push(...resolved);
    else services.push(resolved);
  });
  problems.push(...overlaps(services));
  if (problems.length > 0) throw new ConfigError(path, problems);
  return {
    file: path,
    listen: edge.listen ?? null,
    tls:
      edge.tls === undefined
        ? null
        : {
            listen: edge.tls.listen,
            certificates: (edge.tls.certificates ?? []).map((pair) => ({
              cert: resolve(dir, pair.cert),
              key: resolve(dir, pair.key),
            })),
            redirectHttp: edge.tls.redirectHttp,
            acme:
              edge.tls.acme === undefined
                ? null
                : {
                    ...edge.tls.acme,
                    ...(edge.tls.acme.directoryCa
                      ? { directoryCa: resolve(dir, edge.tls.acme.directoryCa) }
                      : {}),
                  },
          },
    metrics: edge.metrics ?? null,
    drainTimeoutMs: edge.drainTimeout,
    services,
  };
}

function resolveService(
  entry: EdgeServiceEntry,
  index: number,
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
): EdgeServiceSettings | string[] {
  const field = `services[${index}]`;
  const route = { hosts: entry.hosts, pathPrefix: entry.pathPrefix, stripPrefix: entry.stripPrefix };
  if (entry.upstream !== undefined) return { name: entry.name as string, upstream: entry.upstream, ...route };
  const router = readServiceRouter(resolve(dir, entry.config as string), `${field}.config`, env);
  if (Array.isArray(router)) return router;
  const name = entry.name ?? router.service;
  if (name === undefined)
    return [`${field}.name: is required: ${entry.config} has no service: name the edge can use`];
  return { name, upstream: router.listen, ...route };
}

/** Two services with one name, or one host and prefix claimed twice: a request must have one service. */
function overlaps(services: readonly EdgeServiceSettings[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const claimed = new Map<string, string>();
  for (const service of services) {
    if (names.has(service.name))
      problems.push(`services: two services are named "${service.name}"; give each its own name:`);
    names.add(service.name);
    for (const host of service.hosts) {
      const key = `${host} ${service.pathPrefix}`;
      const owner = claimed.get(key);
      const where = service.pathPrefix === "/" ? "" : ` with pathPrefix ${service.pathPrefix}`;
      if (owner !== undefined && owner !== service.name)
        problems.push(
          `services: host ${host}${where} is claimed by both "${owner}" and "${service.name}"; a request must reach one service: remove it from one, or give them different pathPrefix:`,
        );
      else if (owner === service.name)
        problems.push(`services: "${service.name}" lists host ${host} twice; list it once`);
      claimed.set(key, service.name);
    }
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length === 0 ? "(top level)" : fieldName(issue.path);
  if (issue.code === "unrecognized_keys")
    return `${field === "(top level)" ? "" : `${field}: `}unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling (the fields are in README, "Several services on one machine")`;
  if (issue.code === "invalid_type" && issue.input === undefined)
    return `${field}: is required (${issue.message.replace(/, received undefined$/, "")})`;
  // The value given, when it is short enough to read in one line: a string, a number, true or false.
  const input = "input" in issue ? issue.input : undefined;
  const got = ["string", "number", "boolean"].includes(typeof input) ? `; got ${JSON.stringify(input)}` : "";
  return issue.path.length === 0 ? `${issue.message}${got}` : `${field}: ${issue.message}${got}`;
}

/** ["services", 0, "hosts"] -> "services[0].hosts", as the loader's own problems name fields. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, part) =>
      typeof part === "number" ? `${name}[${part}]` : name === "" ? String(part) : `${name}.${String(part)}`,
    "",
  );
}
