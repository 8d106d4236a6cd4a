/**
 * The API server's pod proxy subresource, `…/namespaces/{ns}/pods/{id}/proxy[/{path}]`, as upstream serves
 * it (kubernetes pkg/registry/core/pod/rest/subresources.go ProxyREST, pkg/registry/core/pod/strategy.go
 * ResourceLocation, apimachinery pkg/util/proxy upgradeaware.go and transport.go):
 *
 * - {id} is `name`, `name:port` or `scheme:name:port` (scheme http or https; anything else → 400
 *   `invalid pod request "…"`); a port that is not given is the first containerPort of the pod's
 *   containers; each path segment is URL-decoded (client-node's connectGetNamespacedPodProxyWithPath sends
 *   `pod%3A8080` and an encoded path), the path is cleaned, a trailing slash kept;
 * - a pod that does not exist → 404 `pods "x" not found`; one without an IP (status.podIPs[0], else
 *   status.podIP) → 400 `address not allowed`;
 * - anything else is forwarded to podIP:port with the method, the query string as it came, the headers
 *   but Authorization (the authentication filter removes it) and the hop-by-hop ones, and the body; the
 *   pod's status, headers and body come back as they are;
 * - nothing listening there (simulated pods never listen; in process mode the process is not up or
 *   exited) → 503 ServiceUnavailable `error trying to reach service: dial tcp IP:PORT: connect:
 *   connection refused`.
 *
 * Not copied: HTTPS to the pod, the rewriting of links in HTML answers, upgrades (WebSocket).
 */
import { type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from "node:http";
import { posix } from "node:path";
import type { ObjectStore } from "./object-store.js";
import { firstPort, podIPOf } from "./pod-fields.js";
import type { PodNetwork } from "./pod-network.js";
import { RESOURCES, type ResourceInfo } from "./resources.js";
import { badRequest, notFound, serviceUnavailable } from "./status.js";

export interface PodProxyTarget {
  readonly namespace: string;
  /** `name`, `name:port` or `scheme:name:port`. */
  readonly id: string;
  /** The path in the pod, without its leading slash. */
  readonly path: string;
}

const PODS = RESOURCES.find((r) => r.plural === "pods") as ResourceInfo;

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** The target of `/api/v1/namespaces/{ns}/pods/{id}/proxy[/{path}]`; null for any other path. */
export function podProxyTarget(pathname: string): PodProxyTarget | null {
  const parts = pathname.split("/");
  const [, api, version, namespaces, namespace, pods, id, proxy] = parts;
  if (api !== "api" || version !== "v1" || namespaces !== "namespaces" || pods !== "pods") return null;
  if (proxy !== "proxy" || !namespace || !id) return null;
  try {
    const path = parts.slice(8).map(decodeURIComponent).join("/");
    return { namespace: decodeURIComponent(namespace), id: decodeURIComponent(id), path };
  } catch {
    throw badRequest(`invalid escape in the request path ${pathname}`);
  }
}

/** Forwards one request to the pod; resolves with the status it answered, rejects with an ApiError. */
export async function proxyToPod(
  req: IncomingMessage,
  res: ServerResponse,
  target: PodProxyTarget,
  context: { readonly store: ObjectStore; readonly network: PodNetwork; readonly search: string },
): Promise<number> {
  const { name, port } = splitSchemeNamePort(target.id);
  const pod = context.store.get("pods", target.namespace, name);
  if (!pod) throw notFound(PODS, name);
  const ip = podIPOf(pod);
  if (!ip) throw badRequest("address not allowed");
  const portNumber = port === "" ? (firstPort(pod) ?? 80) : Number(port);
  const refused = serviceUnavailable(
    `error trying to reach service: dial tcp ${ip}:${port || portNumber}: connect: connection refused`,
  );
  const address = Number.isInteger(portNumber) ? context.network.addressOf(ip, portNumber) : null;
  if (!address) throw refused;
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        ...address,
        method: req.method,
        path: `${cleanPath(target.path)}${context.search}`,
        headers: forwarded(req.headers, `${address.host}:${address.port}`),
        agent: false,
      },
      (answer) => {
        const code = answer.statusCode ?? 502;
        res.writeHead(code, forwarded(answer.headers));
        answer.pipe(res);
        answer.on("error", () => res.destroy());
        res.once("close", () => resolve(code));
      },
    );
    upstream.on("error", () => (res.headersSent ? res.destroy() : reject(refused)));
    res.once("close", () => upstream.destroy());
    req.pipe(upstream);
  });
}

/** utilnet.SplitSchemeNamePort: `name`, `name:port` or `scheme:name:port` with scheme "", http or https. */
function splitSchemeNamePort(id: string): { name: string; port: string } {
  const parts = id.split(":");
  const [scheme, name, port] =
    parts.length === 1 ? ["", parts[0], ""] : parts.length === 2 ? ["", parts[0], parts[1]] : parts;
  if (parts.length > 3 || !name || !["", "http", "https"].includes(scheme ?? ""))
    throw badRequest(`invalid pod request ${JSON.stringify(id)}`);
  return { name, port: port ?? "" };
}

/** net.JoinPreservingTrailingSlash("", path): cleaned, absolute, a trailing slash kept. */
function cleanPath(path: string): string {
  const joined = posix.join("/", path);
  return path.endsWith("/") && !joined.endsWith("/") ? `${joined}/` : joined;
}

function forwarded(headers: IncomingHttpHeaders, host?: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || key === "authorization") continue;
    result[key] = value;
  }
  if (host) result.host = host;
  return result;
}
