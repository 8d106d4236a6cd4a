/**
 * The config of gRPC services: router.upstreamProtocol (http1 by default, h2c for gRPC) and health.grpc, what
 * each platform makes of them (a native grpc probe on Kubernetes, validated against the Kubernetes OpenAPI
 * schema), and what is refused at load with the field named and what to write instead.
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { renderManifests } from "../../src/platforms/kubernetes/render-manifests.js";

const LOCAL = { service: "shop", version: "1.0.0", start: { command: "node server.js" } };
const KUBE = {
  service: "shop",
  version: "1.0.0",
  platform: "kubernetes",
  kubernetes: { namespace: "shop", image: "registry.example.com/shop:{version}", containerPort: 50051 },
};

const load = (config: object) => parseConfig(stringify(config), "/srv/shop/cutover.yaml").config;

function refusal(config: object): string {
  try {
    load(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).message;
  }
  throw new Error("the config was accepted");
}

describe("router.upstreamProtocol and health.grpc", () => {
  it("default to HTTP/1.1 upstreams and GET health.path; h2c and a gRPC check when asked", () => {
    const plain = load(LOCAL);
    expect(plain.router.upstreamProtocol).toBe("http1");
    expect(plain.health.grpc).toBeUndefined();
    const grpc = load({ ...LOCAL, router: { upstreamProtocol: "h2c" }, health: { grpc: {} } });
    expect(grpc.router.upstreamProtocol).toBe("h2c");
    expect(grpc.health.grpc).toEqual({ service: "" });
    expect(load({ ...LOCAL, health: { grpc: { service: "shop.v1.Cart" } } }).health.grpc?.service).toBe(
      "shop.v1.Cart",
    );
    expect(refusal({ ...LOCAL, router: { upstreamProtocol: "h3" } })).toMatch(/router\.upstreamProtocol/);
  });

  it("refuses what cannot be honoured, saying what to write instead", () => {
    expect(refusal({ ...LOCAL, router: { upstreamProtocol: "h2c", dataPlane: "haproxy" } })).toContain(
      "router.upstreamProtocol: h2c is spoken only by the built-in router",
    );
    const mirror = {
      source: { type: "router" },
      conditions: [{ metric: "errorRate", max: 0.05 }],
      mirror: { share: 0.1 },
    };
    expect(refusal({ ...LOCAL, router: { upstreamProtocol: "h2c" }, analysis: mirror })).toContain(
      "analysis.mirror: shadow copies are sent over HTTP/1.1, which h2c replicas do not speak",
    );
    expect(refusal({ ...LOCAL, health: { path: "/ready", grpc: {} } })).toContain(
      "health.path: a replica is checked either by GET health.path or by gRPC (health.grpc), not both",
    );
    // On Kubernetes the Services carry any TCP protocol: router fields are the built-in router's only.
    expect(refusal({ ...KUBE, router: { upstreamProtocol: "h2c" } })).toContain(
      "router.upstreamProtocol: the built-in router runs only with platform: local",
    );
  });

  it("renders a native grpc probe on Kubernetes with health.grpc, on the container's port, and a valid Deployment", () => {
    const config = load({ ...KUBE, health: { grpc: { service: "shop.v1.Cart" }, restartAfterFailures: 4 } });
    const deployment = renderManifests(config).find((o) => o.kind === "Deployment");
    const container = (
      deployment as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }
    ).spec.template.spec.containers[0];
    const grpc = { port: 50051, service: "shop.v1.Cart" };
    expect(container?.readinessProbe).toEqual({
      grpc,
      periodSeconds: 1,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(container?.startupProbe).toMatchObject({ grpc, successThreshold: 1, failureThreshold: 30 });
    expect(container?.livenessProbe).toMatchObject({ grpc, failureThreshold: 4 });
    expect(JSON.stringify(deployment)).not.toContain("httpGet");
    expect(() => new Deployment(JSON.parse(JSON.stringify(deployment))).validate()).not.toThrow();
    // Without health.grpc the probes stay GET health.path.
    const plain = renderManifests(load(KUBE)).find((o) => o.kind === "Deployment");
    expect(JSON.stringify(plain)).toContain('"httpGet":{"path":"/health","port":"http"}');
  });
});
