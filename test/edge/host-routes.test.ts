/** The edge's routing table alone: which service a host and a path reach, and how the path is sent on. */
import { describe, expect, it } from "vitest";
import {
  HostRoutes,
  prefixMatches,
  requestHost,
  stripPrefix,
  unsafePath,
} from "../../src/edge/host-routes.js";

const service = (name: string, hosts: string[], pathPrefix = "/") => ({ name, hosts, pathPrefix });

/** The name of the service `host` and `url` reach, or the kind of refusal. */
function routed(routes: HostRoutes<ReturnType<typeof service>>, host: string, url: string): string {
  const match = routes.match(host, url);
  return match.kind === "service" ? match.service.name : match.kind;
}

describe("the edge's routing table", () => {
  const routes = new HostRoutes([
    service("shop", ["shop.example.com", "www.shop.example.com"]),
    service("shop-api", ["shop.example.com"], "/api"),
    service("shop-admin", ["shop.example.com"], "/api/admin"),
    service("tenants", ["*.example.com"]),
    service("deep", ["*.eu.example.com"]),
    service("fallback", ["*"], "/status"),
  ]);

  it("sends an exact host to its services, the longest matching path prefix first, at / boundaries", () => {
    expect(routed(routes, "shop.example.com", "/")).toBe("shop");
    expect(routed(routes, "www.shop.example.com", "/api")).toBe("shop");
    expect(routed(routes, "shop.example.com", "/api")).toBe("shop-api");
    expect(routed(routes, "shop.example.com", "/api/")).toBe("shop-api");
    expect(routed(routes, "shop.example.com", "/api?q=1")).toBe("shop-api");
    expect(routed(routes, "shop.example.com", "/api/admin/users")).toBe("shop-admin");
    expect(routed(routes, "shop.example.com", "/apiary")).toBe("shop");
    expect(routed(routes, "shop.example.com", "/api/administrators")).toBe("shop-api");
  });

  it("prefers an exact name to a wildcard, the longest wildcard to a shorter one, any wildcard to *", () => {
    expect(routed(routes, "blog.example.com", "/")).toBe("tenants");
    expect(routed(routes, "a.b.example.com", "/")).toBe("tenants");
    expect(routed(routes, "paris.eu.example.com", "/")).toBe("deep");
    expect(routed(routes, "example.com", "/status")).toBe("fallback");
    expect(routed(routes, "other.org", "/status/x")).toBe("fallback");
  });

  it("refuses a host no pattern matches, and a path the host's own services do not take", () => {
    const strict = new HostRoutes([service("shop", ["shop.example.com"], "/shop")]);
    expect(routed(strict, "elsewhere.example.com", "/shop")).toBe("no-host");
    expect(routed(strict, "", "/shop")).toBe("no-host");
    expect(routed(strict, "shop.example.com", "/blog")).toBe("no-path");
    // A host's set never falls through to a less specific pattern: "*" takes only hosts nothing else names.
    expect(routed(routes, "other.org", "/")).toBe("no-path");
    expect(routed(routes, "example.com", "/")).toBe("no-path");
  });

  it("routes no path with a dot-segment or an encoded slash or dot, before looking at its host", () => {
    // Each starts with /api, yet resolves (at whoever decodes and normalises it) outside /api.
    for (const url of [
      "/api/../admin",
      "/api/./../admin",
      "/api/..",
      "/api/%2e%2e/admin",
      "/api%2F..%2Fadmin",
    ])
      expect(routed(routes, "shop.example.com", url)).toBe("bad-path");
    expect(routed(routes, "unknown.org", "/api/../admin")).toBe("bad-path");
    // Dots that are not a whole segment, and anything in the query, are routed as usual.
    expect(routed(routes, "shop.example.com", "/api/..hidden/v1.2/x.")).toBe("shop-api");
    expect(routed(routes, "shop.example.com", "/api/x?next=/../%2F%2e")).toBe("shop-api");
  });
});

describe("what the edge reads of a request", () => {
  it("takes the host from Host or :authority, lower case, without its port or a trailing dot", () => {
    expect(requestHost({ host: "Shop.Example.COM:8443" })).toBe("shop.example.com");
    expect(requestHost({ host: "shop.example.com." })).toBe("shop.example.com");
    expect(requestHost({ ":authority": "api.example.com:443", host: "ignored" })).toBe("api.example.com");
    expect(requestHost({ host: "[::1]:8080" })).toBe("[::1]");
    expect(requestHost({})).toBe("");
  });

  it("matches prefixes at a / boundary and strips them keeping the query", () => {
    expect(prefixMatches("/", "/anything")).toBe(true);
    expect(prefixMatches("/api", "/api")).toBe(true);
    expect(prefixMatches("/api", "/api/v1")).toBe(true);
    expect(prefixMatches("/api", "/apiv1")).toBe(false);
    expect(stripPrefix("/api", "/api/users?q=1")).toBe("/users?q=1");
    expect(stripPrefix("/api", "/api")).toBe("/");
    expect(stripPrefix("/api", "/api?q=1")).toBe("/?q=1");
    expect(stripPrefix("/", "/x")).toBe("/x");
  });

  it("finds dot-segments anywhere in a path, and encoded slashes and dots in any case", () => {
    const dotSegment = "has a dot-segment (/./ or /../); send the path it resolves to (as browsers do)";
    for (const path of ["/./x", "/a/../b", "/a/.", "/a/..", "/..", "/."])
      expect(unsafePath(path)).toBe(dotSegment);
    const encoded =
      "has an encoded slash or dot (%2F or %2E), which the edge does not route; send / and . as they are";
    for (const path of ["/a%2fb", "/a%2Fb", "/a/%2e%2e/b", "/a/%2E", "/file%2etxt"])
      expect(unsafePath(path)).toBe(encoded);
    for (const path of ["/", "/a.b", "/.well-known/acme-challenge/x", "/a/...", "/a..b/", "/%20", "/a%252e"])
      expect(unsafePath(path)).toBeNull();
  });
});
