/**
 * cutover-edge.yaml: what a valid file becomes (each service's router found in its cutover.yaml), and the
 * errors a wrong one gets, each naming the field and what to do.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findEdgeFile, loadEdgeConfig } from "../../src/edge/load-edge-config.js";
import { ConfigError } from "../../src/errors.js";

/** A folder with the edge's file and, for each `services` entry, a service folder with its cutover.yaml. */
function folder(edge: string, services: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-edge-config-"));
  writeFileSync(join(dir, "cutover-edge.yaml"), edge);
  for (const [name, config] of Object.entries(services)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "cutover.yaml"), config);
  }
  return dir;
}

/** The problems loading the folder's edge file reports (fails the test when it loads). */
function problemsOf(dir: string): readonly string[] {
  try {
    loadEdgeConfig(join(dir, "cutover-edge.yaml"));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(join(dir, "cutover-edge.yaml"));
    return (error as ConfigError).problems;
  }
  throw new Error("the edge's file loaded, and it should not have");
}

const serviceYaml = (name: string, listen: string) =>
  `service: ${name}\nversion: 1.0.0\nstart:\n  command: node server.js\nrouter:\n  listen: ${listen}\n`;

describe("cutover-edge.yaml", () => {
  it("reads each service's router.listen and name from its cutover.yaml; hosts are lower-cased", () => {
    const dir = folder(
      `listen: 0.0.0.0:8080
services:
  - config: shop/cutover.yaml
    hosts: [Shop.Example.com, "*.shop.example.com."]
  - name: blog
    upstream: 127.0.0.1:9300
    hosts: [blog.example.com]
    pathPrefix: /blog/
    stripPrefix: true
`,
      { shop: serviceYaml("shop", "0.0.0.0:9200") },
    );
    const settings = loadEdgeConfig(join(dir, "cutover-edge.yaml"));
    expect(settings.listen).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(settings.tls).toBeNull();
    expect(settings.drainTimeoutMs).toBe(30_000);
    expect(settings.services).toEqual([
      {
        name: "shop",
        // A router on every address is reached on loopback.
        upstream: { host: "127.0.0.1", port: 9200 },
        hosts: ["shop.example.com", "*.shop.example.com"],
        pathPrefix: "/",
        stripPrefix: false,
      },
      {
        name: "blog",
        upstream: { host: "127.0.0.1", port: 9300 },
        hosts: ["blog.example.com"],
        pathPrefix: "/blog",
        stripPrefix: true,
      },
    ]);
  });

  it("names a misspelt field, a host with a port, and a service with neither config nor upstream", () => {
    const problems = problemsOf(
      folder(`listen: 8080
services:
  - name: shop
    upstream: 127.0.0.1:9200
    hostz: [shop.example.com]
  - name: blog
    upstream: 127.0.0.1:9300
    hosts: ["blog.example.com:443"]
  - name: wiki
    hosts: [wiki.example.com]
`),
    );
    expect(problems).toEqual([
      "services[0].hosts: is required (Invalid input: expected array)",
      'services[0]: unknown field "hostz"; check the spelling (the fields are in README, "Several services on one machine")',
      'services[1].hosts[0]: expected a host name such as shop.example.com, a wildcard such as "*.example.com", or "*" for any host (no port, no scheme); got "blog.example.com:443"',
      "services[2]: give either config: (the service's cutover.yaml, whose router.listen the edge reads) or upstream: (host:port of its router), not both and not neither",
    ]);
  });

  it("refuses a host claimed by two services (with one prefix), naming both", () => {
    const problems = problemsOf(
      folder(`listen: 8080
services:
  - { name: shop, upstream: 9200, hosts: [shop.example.com, www.example.com] }
  - { name: blog, upstream: 9300, hosts: [WWW.example.com] }
  - { name: api, upstream: 9400, hosts: [www.example.com], pathPrefix: /api }
`),
    );
    expect(problems).toEqual([
      'services: host www.example.com is claimed by both "shop" and "blog"; a request must reach one service: remove it from one, or give them different pathPrefix:',
    ]);
  });

  it("says which service's cutover.yaml does not exist, and what to give instead", () => {
    const dir = folder(`listen: 8080
services:
  - config: ../nowhere/cutover.yaml
    hosts: [shop.example.com]
`);
    expect(problemsOf(dir)).toEqual([
      `services[0].config: ${join(dir, "..", "nowhere", "cutover.yaml")} does not exist; give the path of the service's cutover.yaml (relative to the edge's file), or upstream: host:port of its router`,
    ]);
  });

  it("refuses a service whose router serves HTTPS itself, and an edge that listens nowhere", () => {
    const tls = `${serviceYaml("shop", "127.0.0.1:9443")}  tls:\n    certificates:\n      - { cert: c.pem, key: k.pem }\n`;
    const problems = problemsOf(
      folder("services:\n  - config: shop/cutover.yaml\n    hosts: [shop.example.com]\n", { shop: tls }),
    );
    expect(problems).toEqual([
      'the edge listens nowhere: give listen: (plain HTTP, e.g. "0.0.0.0:80") or tls: { listen, certificates }, or both',
    ]);
    const refused = problemsOf(
      folder("listen: 8080\nservices:\n  - config: shop/cutover.yaml\n    hosts: [shop.example.com]\n", {
        shop: tls,
      }),
    );
    expect(refused[0]).toMatch(
      /^services\[0\]\.config: .*shop\/cutover\.yaml serves HTTPS itself \(router\.tls\)/,
    );
  });

  it("refuses a gRPC service (router.upstreamProtocol: h2c), saying its clients use its own router.tls", () => {
    // As a gRPC service is set up: h2c to its replicas, HTTP/2 over TLS from its clients.
    const grpc = `${serviceYaml("orders", "127.0.0.1:9443")}  upstreamProtocol: h2c\n  tls:\n    certificates:\n      - { cert: c.pem, key: k.pem }\n`;
    const dir = folder(
      "listen: 8080\nservices:\n  - config: orders/cutover.yaml\n    hosts: [orders.example.com]\n",
      {
        orders: grpc,
      },
    );
    expect(problemsOf(dir)).toEqual([
      `services[0].config: ${join(dir, "orders", "cutover.yaml")} has router.upstreamProtocol: h2c (gRPC), which the edge cannot carry: it speaks HTTP/1.1 to the routers behind it, and gRPC needs HTTP/2 all the way. gRPC clients reach that service on its own router.tls listener; remove it from the edge's services`,
    ]);
  });

  it("is cutover-edge.yaml in the working directory unless -c names another", () => {
    const dir = folder("listen: 8080\nservices: []\n");
    expect(findEdgeFile(undefined, dir)).toBe(join(dir, "cutover-edge.yaml"));
    expect(findEdgeFile("other.yaml", dir)).toBe(join(dir, "other.yaml"));
    expect(() => findEdgeFile(undefined, tmpdir())).toThrow(
      /no cutover-edge\.yaml in .*; write one .* or name it with -c <file>/,
    );
    expect(problemsOf(dir)).toEqual(["services: expected at least one service"]);
  });
});
