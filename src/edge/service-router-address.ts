import { existsSync, readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { Address } from "../config/address.js";
import { dnsLabel } from "../config/dns-label.js";
import { interpolateEnv } from "../config/interpolate.js";
import { routerSchema } from "../config/schema.js";

/** What the edge needs of a service's cutover.yaml: its name and where its router listens. */
export interface ServiceRouter {
  /** Its service: field; undefined when it has none the edge can use as a name. */
  readonly service: string | undefined;
  /** Where to reach its router: router.listen, a wildcard host read as loopback. */
  readonly listen: Address;
}

/**
 * Reads router.listen (and service:) from a service's cutover.yaml; the problems found otherwise, each
 * starting with `field` (e.g. "services[0].config"). Only those fields are read and checked: the rest of
 * the file is the service's own business, and may name variables (database passwords) the edge does not
 * have in its environment.
 */
export function readServiceRouter(
  file: string,
  field: string,
  env: Readonly<Record<string, string | undefined>>,
): ServiceRouter | string[] {
  if (!existsSync(file))
    return [
      `${field}: ${file} does not exist; give the path of the service's cutover.yaml (relative to the edge's file), or upstream: host:port of its router`,
    ];
  const document = parseDocument(readFileSync(file, "utf8"));
  if (document.errors.length > 0)
    return [`${field}: ${file} is not valid YAML: ${document.errors[0]?.message.split("\n")[0]}`];
  const raw = document.toJS() as unknown;
  const top = isRecord(raw) ? raw : {};
  const router = isRecord(top.router) ? top.router : {};
  const refusal = refusalOf(top, router, file);
  if (refusal !== null) return [`${field}: ${refusal}`];
  const interpolated = interpolateEnv({ service: top.service, router: { listen: router.listen } }, env);
  if (interpolated.problems.length > 0)
    return interpolated.problems.map((problem) => `${field}: ${file}: ${problem}`);
  const value = interpolated.value as { service: unknown; router: { listen: unknown } };
  const listen = routerSchema.unwrap().shape.listen.safeParse(value.router.listen);
  if (!listen.success)
    return [
      `${field}: ${file} has router.listen: ${JSON.stringify(value.router.listen)}, which is not host:port; fix it there (\`cutover up\` refuses it too)`,
    ];
  const service = dnsLabel.safeParse(value.service);
  return {
    service: service.success ? service.data : undefined,
    listen: { host: reachableHost(listen.data.host), port: listen.data.port },
  };
}

/** Why a service's config cannot stand behind the edge; null when it can. */
function refusalOf(
  top: Record<string, unknown>,
  router: Record<string, unknown>,
  file: string,
): string | null {
  if (top.platform === "kubernetes")
    return `${file} runs on Kubernetes, where no cutover router listens on this machine; give upstream: host:port of what serves it instead`;
  if (top.regions !== undefined)
    return `${file} is a fleet (it has regions:), which has no router of its own; give the cutover.yaml of the service on this machine, or upstream: host:port`;
  // Before router.tls: a gRPC service has both, and this is the reason it cannot stand behind the edge.
  if (router.upstreamProtocol === "h2c")
    return `${file} has router.upstreamProtocol: h2c (gRPC), which the edge cannot carry: it speaks HTTP/1.1 to the routers behind it, and gRPC needs HTTP/2 all the way. gRPC clients reach that service on its own router.tls listener; remove it from the edge's services`;
  if (router.tls !== undefined)
    return `${file} serves HTTPS itself (router.tls); behind the edge, the edge holds the certificates (tls: in the edge's file): remove router.tls from the service, or give upstream: host:port of a plain HTTP listener`;
  return null;
}

/** A router listening on every address is reached on loopback. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
