import type { IncomingHttpHeaders } from "node:http";

/** What the edge routes to: anything with hosts and a path prefix (a service, in tests a name). */
export interface Routable {
  /** Lower case: exact names, "*.example.com", or "*". */
  readonly hosts: readonly string[];
  /** "/" or a prefix without a trailing slash. */
  readonly pathPrefix: string;
}

/**
 * Where a request goes: a service; no service for its host; its host has services, none for its path; or
 * its path cannot be matched safely (`why` says what is wrong with it).
 */
export type RouteMatch<T> =
  | { readonly kind: "service"; readonly service: T }
  | { readonly kind: "no-host" }
  | { readonly kind: "no-path" }
  | { readonly kind: "bad-path"; readonly why: string };

/**
 * The edge's routing table, built once. A request's host picks one set of services, the most specific
 * pattern first (nginx's server_name order): the exact name, else the longest matching "*." wildcard, else
 * "*". Within that set the longest path prefix that matches wins. A host never falls through to a less
 * specific pattern for a path its own set lacks: a service answers for the names it is given, no others.
 */
export class HostRoutes<T extends Routable> {
  readonly #exact = new Map<string, T[]>();
  /** By suffix (".example.com"), longest first. */
  readonly #wildcards: Array<{ readonly suffix: string; readonly services: T[] }> = [];
  /** The services of "*", for any host no other pattern matches; null when none has it. */
  readonly #any: T[] | null;

  constructor(services: readonly T[]) {
    const wildcards = new Map<string, T[]>();
    const any: T[] = [];
    for (const service of services)
      for (const host of service.hosts) {
        if (host === "*") any.push(service);
        else if (host.startsWith("*.")) listAt(wildcards, host.slice(1)).push(service);
        else listAt(this.#exact, host).push(service);
      }
    for (const [suffix, list] of wildcards) this.#wildcards.push({ suffix, services: list });
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    const longestPrefixFirst = (list: T[]) => list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    for (const list of this.#exact.values()) longestPrefixFirst(list);
    for (const { services: list } of this.#wildcards) longestPrefixFirst(list);
    this.#any = any.length > 0 ? longestPrefixFirst(any) : null;
  }

  /** `host` as requestHost gives it; `url` the request's target (path and query). */
  match(host: string, url: string): RouteMatch<T> {
    const path = pathOf(url);
    const why = unsafePath(path);
    if (why !== null) return { kind: "bad-path", why };
    const candidates = this.#servicesOf(host);
    if (candidates === undefined) return { kind: "no-host" };
    const service = candidates.find((candidate) => prefixMatches(candidate.pathPrefix, path));
    return service === undefined ? { kind: "no-path" } : { kind: "service", service };
  }

  #servicesOf(host: string): T[] | undefined {
    if (host !== "") {
      const exact = this.#exact.get(host);
      if (exact !== undefined) return exact;
      // "*.example.com" is any name under example.com, at any depth, never example.com itself.
      const wildcard = this.#wildcards.find(
        ({ suffix }) => host.endsWith(suffix) && host.length > suffix.length,
      );
      if (wildcard !== undefined) return wildcard.services;
    }
    return this.#any ?? undefined;
  }
}

/**
 * The host a request names (Host, or HTTP/2's :authority), lower case, without its port or a trailing dot;
 * "" when it names none.
 */
export function requestHost(headers: IncomingHttpHeaders): string {
  const authority = headers[":authority"];
  const raw = (typeof authority === "string" ? authority : (headers.host ?? "")).trim().toLowerCase();
  const host = raw.startsWith("[") ? raw.slice(0, raw.indexOf("]") + 1) : raw.replace(/:\d*$/, "");
  return host.replace(/\.$/, "");
}

/** A dot-segment: "/./" or "/../" inside a path, or "/." or "/.." at its end. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
/** A slash or a dot percent-encoded, in either case: %2F, %2f, %2E, %2e. */
const ENCODED_SLASH_OR_DOT = /%2[ef]/i;

/**
 * Why the edge will not route `path` (without its query), or null when it may. Prefixes are matched on the
 * path as sent, while a service resolves it: /api/../admin and /api/%2e%2e/admin start with /api but are
 * /admin to whoever decodes and normalises them, which would reach a path of the /api service that is not
 * under /api, or one another service owns. Browsers and curl send paths already resolved, so refusing these
 * costs real clients nothing.
 */
export function unsafePath(path: string): string | null {
  if (DOT_SEGMENT.test(path))
    return "has a dot-segment (/./ or /../); send the path it resolves to (as browsers do)";
  if (ENCODED_SLASH_OR_DOT.test(path))
    return "has an encoded slash or dot (%2F or %2E), which the edge does not route; send / and . as they are";
  return null;
}

/** True when `path` is under `prefix` at a / boundary: /api matches /api, /api/ and /api/x, not /apiary. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === "/") return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47) /* "/" */;
}

/** `url` without `prefix` (which it is under): /api/users?q=1 -> /users?q=1, /api -> /. */
export function stripPrefix(prefix: string, url: string): string {
  if (prefix === "/") return url;
  const rest = url.slice(prefix.length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function listAt<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  return list;
}
