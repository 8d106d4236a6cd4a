/**
 * `cutover render kubernetes`: the manifests for a config like the README's, pinned by a golden file
 * (UPDATE_GOLDEN=1 rewrites it), every object validated against the Kubernetes OpenAPI schemas
 * (kubernetes-models), and the YAML read back as `kubectl apply -f` reads it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { Command } from "commander";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Service } from "kubernetes-models/v1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { registerRenderCommand } from "../../src/cli/commands/render.js";
import { Output } from "../../src/cli/output.js";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { KubernetesConfigMissingError } from "../../src/platforms/kubernetes/errors.js";
import {
  type KubeObject,
  manifestsYaml,
  renderManifests,
} from "../../src/platforms/kubernetes/render-manifests.js";

const GOLDEN = join(import.meta.dirname, "golden", "shop.yaml");

/** The README's example cutover.yaml, with a `kubernetes:` section for a cluster on Azure. */
const README_EXAMPLE = {
  service: "shop",
  version: "1.0.0",
  platform: "kubernetes",
  replicas: 2,
  start: {
    env: { LOG_FORMAT: "json", PUBLIC_URL: "https://shop.example.com/{version}" },
    stopGrace: "10s",
  },
  health: {
    path: "/health",
    interval: "1s",
    timeout: "1s",
    successThreshold: 1,
    failureThreshold: 3,
    startupGrace: "30s",
    restartAfterFailures: 5,
  },
  deploy: { autoPromote: true, readyTimeout: "60s", scaleDownDelay: "30s" },
  kubernetes: {
    namespace: "shop",
    image: "registry.example.com/shop:{version}",
    containerPort: 8080,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
    warmReplicas: 1,
    disruptionBudget: { minAvailable: 1 },
    autoscaling: {
      maxReplicas: 10,
      cpu: 70,
      memory: 80,
      scaleUp: { stabilizationWindow: "0s", percent: 100, pods: 4, period: "15s" },
      scaleDown: { stabilizationWindow: "5m", percent: 10, period: "1m" },
    },
    service: {
      type: "LoadBalancer",
      annotations: {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
        "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/health",
      },
      sessionAffinity: "ClientIP",
      sessionAffinityTimeout: 3600,
    },
    readinessGate: true,
    progressDeadlineSeconds: 300,
  },
};

const config = (overrides: Record<string, unknown> = {}) =>
  parseConfig(stringify({ ...README_EXAMPLE, ...overrides }), "/srv/shop/cutover.yaml").config;

/** The problems a config with these `kubernetes:` fields (over the README's) is refused with. */
function problems(kubernetes: Record<string, unknown>): readonly string[] {
  try {
    config({ kubernetes: { ...README_EXAMPLE.kubernetes, ...kubernetes } });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("renderManifests", () => {
  it("matches the golden file", () => {
    const yaml = manifestsYaml(renderManifests(config()), "cutover.yaml");
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, yaml);
    expect(yaml).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("validates every object against the Kubernetes OpenAPI schemas", () => {
    const objects = renderManifests(config());
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      "Service/shop",
      "Service/shop-preview",
      "Deployment/shop-blue",
      "PodDisruptionBudget/shop-blue",
      "HorizontalPodAutoscaler/shop-blue",
      "Deployment/shop-green",
      "PodDisruptionBudget/shop-green",
      "HorizontalPodAutoscaler/shop-green",
    ]);
    for (const object of objects)
      expect(() => validateModel(object), `${object.kind}/${object.metadata?.name}`).not.toThrow();
    // The check has teeth: a wrong type is refused.
    const broken = structuredClone(objects[2]) as KubeObject & { spec: { replicas: unknown } };
    broken.spec.replicas = "two";
    expect(() => validateModel(broken)).toThrow(/replicas must be integer/);
  });

  it("writes a YAML stream that reads back as the same objects", () => {
    const objects = renderManifests(config());
    const documents = parseAllDocuments(manifestsYaml(objects));
    expect(documents.map((d) => d.toJS())).toEqual(JSON.parse(JSON.stringify(objects)));
  });

  it("derives the probes from health:, spreads pods across nodes, and never lowers capacity in a rollout", () => {
    const [, , blue] = renderManifests(config()) as [KubeObject, KubeObject, Deployment];
    const spec = blue.spec;
    const pod = spec?.template.spec;
    const container = pod?.containers[0];
    expect(container?.readinessProbe).toEqual({
      httpGet: { path: "/health", port: "http" },
      periodSeconds: 1,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(container?.startupProbe?.failureThreshold).toBe(30);
    expect(container?.livenessProbe?.failureThreshold).toBe(5);
    expect(container?.env).toEqual([
      { name: "APP_VERSION", value: "1.0.0" },
      { name: "ENVIRONMENT", value: "blue" },
      { name: "PORT", value: "8080" },
      { name: "LOG_FORMAT", value: "json" },
      { name: "PUBLIC_URL", value: "https://shop.example.com/1.0.0" },
    ]);
    expect(spec?.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(
      pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm
        .topologyKey,
    ).toBe("kubernetes.io/hostname");
    expect(pod?.readinessGates).toEqual([{ conditionType: "cutover.dev/switch-ready" }]);
    expect(pod?.terminationGracePeriodSeconds).toBe(10);
  });

  it("runs the idle colour at the warm count with its HPA minimum lowered, and renders another active colour when asked", () => {
    const objects = renderManifests(config(), {
      active: "green",
      versions: { green: "2.0.0", blue: "1.0.0" },
    });
    const find = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata?.name === name) as KubeObject & {
        spec: Record<string, unknown>;
      };
    expect(find("Service", "shop").spec.selector).toEqual({ app: "shop", version: "green" });
    expect(find("Service", "shop-preview").spec.selector).toEqual({ app: "shop", version: "blue" });
    expect(find("Deployment", "shop-green").spec.replicas).toBe(2);
    expect(find("Deployment", "shop-blue").spec.replicas).toBe(1);
    expect(find("HorizontalPodAutoscaler", "shop-green").spec.minReplicas).toBe(2);
    expect(find("HorizontalPodAutoscaler", "shop-blue").spec.minReplicas).toBe(1);
  });

  it("leaves out the PDB and HPA when they are not configured, and refuses a config without kubernetes:", () => {
    const bare = config({ kubernetes: { image: "shop:{version}", disruptionBudget: null } });
    expect(renderManifests(bare).map((o) => o.kind)).toEqual([
      "Service",
      "Service",
      "Deployment",
      "Deployment",
    ]);
    const { kubernetes: _, ...noSection } = README_EXAMPLE;
    expect(() => parseConfig(stringify(noSection), "/srv/shop/cutover.yaml")).toThrow(
      /kubernetes: is required with platform: kubernetes/,
    );
    expect(() => renderManifests({ ...config(), kubernetes: undefined })).toThrow(
      KubernetesConfigMissingError,
    );
  });
});

describe("the preview Service", () => {
  const services = (kubernetes: Record<string, unknown>) => {
    const objects = renderManifests(config({ kubernetes: { ...README_EXAMPLE.kubernetes, ...kubernetes } }));
    return objects.filter((o): o is V1Service => o.kind === "Service");
  };

  it("is ClusterIP without the active Service's annotations, while the active one is a LoadBalancer", () => {
    const [active, preview] = services({});
    expect(active?.spec?.type).toBe("LoadBalancer");
    expect(active?.metadata?.annotations).toEqual(README_EXAMPLE.kubernetes.service.annotations);
    expect(preview?.metadata?.name).toBe("shop-preview");
    expect(preview?.spec?.type).toBe("ClusterIP");
    expect(preview?.metadata?.annotations).toBeUndefined();
  });

  it("takes its own type, node port and annotations from service.preview", () => {
    const [active, preview] = services({
      service: {
        type: "NodePort",
        nodePort: 30080,
        annotations: { "example.com/public": "true" },
        preview: { type: "NodePort", nodePort: 30081, annotations: { "example.com/internal": "true" } },
      },
    });
    expect(active?.spec?.ports?.[0]?.nodePort).toBe(30080);
    expect(preview?.spec).toMatchObject({ type: "NodePort", ports: [{ nodePort: 30081 }] });
    expect(preview?.metadata?.annotations).toEqual({ "example.com/internal": "true" });
    for (const object of [active, preview]) if (object) expect(() => validateModel(object)).not.toThrow();
  });

  it("refuses the old previewNodePort and previewAnnotations, saying what to write instead", () => {
    const found = problems({
      service: { type: "NodePort", previewNodePort: 30081, previewAnnotations: { a: "b" } },
    });
    expect(found).toEqual([
      "kubernetes.service.previewNodePort: the preview Service has settings of its own now (ClusterIP unless set): write kubernetes.service.preview: { type: NodePort, nodePort: 30081 } instead; got 30081",
      'kubernetes.service.previewAnnotations: the preview Service has settings of its own now (ClusterIP unless set): write them under kubernetes.service.preview.annotations instead; got {"a":"b"}',
    ]);
    expect(problems({ service: { preview: { nodePort: 30081 } } })).toEqual([
      "kubernetes.service.preview.nodePort: a ClusterIP Service has no node port; set service.preview.type: NodePort as well; got 30081",
    ]);
  });
});

describe("kubernetes.env and kubernetes.envFrom", () => {
  const container = (kubernetes: Record<string, unknown>, colour = "blue") => {
    const objects = renderManifests(config({ kubernetes: { ...README_EXAMPLE.kubernetes, ...kubernetes } }));
    const deployment = objects.find((o) => o.metadata?.name === `shop-${colour}`) as V1Deployment;
    expect(() => validateModel(deployment)).not.toThrow();
    return deployment.spec?.template.spec?.containers[0];
  };

  it("renders them in Kubernetes' shape after start.env, a name given twice taking the later value", () => {
    const c = container({
      env: [
        { name: "LOG_FORMAT", value: "text" },
        { name: "IMAGE_TAG", value: "{version}" },
        { name: "API_KEY", valueFrom: { secretKeyRef: { name: "shop-api", key: "key", optional: true } } },
        { name: "FEATURES", valueFrom: { configMapKeyRef: { name: "shop-features", key: "flags" } } },
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      ],
      envFrom: [
        { secretRef: { name: "shop-env" } },
        { configMapRef: { name: "shop-config" }, prefix: "CFG_" },
      ],
    });
    expect(c?.env).toEqual([
      { name: "APP_VERSION", value: "1.0.0" },
      { name: "ENVIRONMENT", value: "blue" },
      { name: "PORT", value: "8080" },
      { name: "LOG_FORMAT", value: "text" },
      { name: "PUBLIC_URL", value: "https://shop.example.com/1.0.0" },
      { name: "IMAGE_TAG", value: "1.0.0" },
      { name: "API_KEY", valueFrom: { secretKeyRef: { name: "shop-api", key: "key", optional: true } } },
      { name: "FEATURES", valueFrom: { configMapKeyRef: { name: "shop-features", key: "flags" } } },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
    expect(c?.envFrom).toEqual([
      { secretRef: { name: "shop-env" } },
      { configMapRef: { name: "shop-config" }, prefix: "CFG_" },
    ]);
  });

  it("refuses a bad entry, naming it and what was expected", () => {
    const found = problems({
      env: [
        { name: "A" },
        { name: "PORT_TOO", value: 8080 },
        { name: "B", value: "x", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "C", valueFrom: { secretKeyRef: { name: "shop-api" } } },
      ],
      envFrom: [{ prefix: "X_" }],
    });
    expect(found).toEqual([
      'kubernetes.env.0: expected exactly one of value or valueFrom; none is set; got {"name":"A"}',
      'kubernetes.env.1.value: expected a string (quote numbers and booleans, such as "8080"); got 8080',
      expect.stringMatching(
        /^kubernetes\.env\.2: expected exactly one of value or valueFrom; value and valueFrom are set/,
      ),
      expect.stringMatching(/^kubernetes\.env\.3\.valueFrom\.secretKeyRef\.key: is required/),
      'kubernetes.envFrom.0: expected exactly one of secretRef or configMapRef; none is set; got {"prefix":"X_"}',
    ]);
  });

  it("never renders a database URL or a password as a plain value", () => {
    const withUrl = config({
      start: { env: { DATABASE_URL: "postgres://app:s3cret@db/shop", CACHE: "redis://:pw2@cache:6379" } },
    });
    const deployments = renderManifests(withUrl).filter((o) => o.kind === "Deployment");
    expect(JSON.stringify(deployments)).not.toMatch(/s3cret|pw2/);
    const env = (deployments[0] as V1Deployment).spec?.template.spec?.containers[0]?.env;
    expect(env).toContainEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "shop-blue-cutover-env", key: "url" } },
    });
    expect(env).toContainEqual({
      name: "CACHE",
      valueFrom: { secretKeyRef: { name: "shop-blue-cutover-env", key: "CACHE" } },
    });
    // With kubernetes.database.secret, DATABASE_URL always comes from the user's Secret.
    const own = container({ database: { secret: { name: "shop-db" } } });
    expect(own?.env?.at(-1)).toEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "shop-db", key: "url" } },
    });
  });
});

describe("cutover render kubernetes", () => {
  it("prints the YAML, or the objects with --json", async () => {
    const loaded = parseConfig(stringify(README_EXAMPLE), "/srv/shop/cutover.yaml");
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const run = async (args: string[], json: boolean) => {
      const program = new Command().exitOverride();
      registerRenderCommand(program, { config: () => loaded, output: () => new Output(json) });
      await program.parseAsync(["node", "cutover", ...args]);
    };
    await run(["render", "kubernetes", "--green-version", "2.0.0"], false);
    expect(written.join("")).toContain("image: registry.example.com/shop:2.0.0");
    expect(written.join("")).toMatch(
      /^# Rendered by `cutover render kubernetes` from \/srv\/shop\/cutover.yaml/,
    );
    written.length = 0;
    await run(["render", "kubernetes", "--active", "green"], true);
    expect(JSON.parse(written.join(""))[0].spec.selector.version).toBe("green");
    await expect(run(["render", "kubernetes", "--active", "red"], false)).rejects.toThrow(
      /--active expects blue or green, got "red"/,
    );
  });
});

function validateModel(object: KubeObject): void {
  const data = JSON.parse(JSON.stringify(object));
  const models: Record<string, { new (data: never): { validate(): void } }> = {
    Service,
    Deployment,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
  } as never;
  const Model = models[String(object.kind)];
  if (!Model) throw new Error(`no model for ${object.kind}`);
  new Model(data as never).validate();
}
