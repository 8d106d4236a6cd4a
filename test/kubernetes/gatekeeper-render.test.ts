/**
 * `cutover render kubernetes` with `kubernetes.gatekeeper`: the ServiceAccount, Role, RoleBinding,
 * ConfigMap and Deployment that run `cutover gatekeeper`, each validated against the Kubernetes OpenAPI
 * schemas (kubernetes-models); nothing of it without the option; refused without the readiness gate.
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { gatekeeperManifests } from "../../src/platforms/kubernetes/gatekeeper-manifests.js";
import {
  type KubeObject,
  manifestsYaml,
  renderManifests,
} from "../../src/platforms/kubernetes/render-manifests.js";

const IMAGE = "registry.example.com/cutover:0.1.0";

const config = (kubernetes: Record<string, unknown> = {}) =>
  parseConfig(
    stringify({
      service: "shop",
      version: "1.0.0",
      platform: "kubernetes",
      kubernetes: {
        namespace: "shop",
        image: "registry.example.com/shop:{version}",
        readinessGate: true,
        gatekeeper: { image: IMAGE },
        ...kubernetes,
      },
    }),
    "/srv/shop/cutover.yaml",
  ).config;

const find = <T>(objects: readonly KubeObject[], kind: string, name = "shop-cutover-gatekeeper") =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name) as T;

describe("gatekeeper manifests", () => {
  it("appends a ServiceAccount, Role, RoleBinding, ConfigMap and Deployment, each valid", () => {
    const objects = renderManifests(config());
    expect(objects.slice(-5).map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      "ServiceAccount/shop-cutover-gatekeeper",
      "Role/shop-cutover-gatekeeper",
      "RoleBinding/shop-cutover-gatekeeper",
      "ConfigMap/shop-cutover-gatekeeper",
      "Deployment/shop-cutover-gatekeeper",
    ]);
    const models = { ServiceAccount, Role, RoleBinding, ConfigMap, Deployment } as Record<
      string,
      new (
        data: never,
      ) => { validate(): void }
    >;
    for (const object of objects.slice(-5)) {
      const Model = models[String(object.kind)];
      if (!Model) throw new Error(`no model for ${object.kind}`);
      expect(() => new Model(JSON.parse(JSON.stringify(object)) as never).validate()).not.toThrow();
    }
    for (const object of objects.slice(-5)) expect(object.metadata?.namespace).toBe("shop");
    const documents = parseAllDocuments(manifestsYaml(objects)).map((d) => d.toJS());
    expect(documents).toEqual(JSON.parse(JSON.stringify(objects)));
  });

  it("runs `cutover gatekeeper` on two replicas as its own non-root account, outside the service's selectors", () => {
    const deployment = find<Deployment>(renderManifests(config()), "Deployment");
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    expect(deployment.spec?.replicas).toBe(2);
    expect(container?.image).toBe(IMAGE);
    expect(container?.args).toEqual(["gatekeeper", "--config", "/etc/cutover/cutover.yaml"]);
    expect(container?.volumeMounts).toEqual([{ name: "config", mountPath: "/etc/cutover", readOnly: true }]);
    expect(pod?.volumes).toEqual([{ name: "config", configMap: { name: "shop-cutover-gatekeeper" } }]);
    expect(pod?.serviceAccountName).toBe("shop-cutover-gatekeeper");
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container?.env).toEqual([
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
    // Its pods must not be taken for the service's: `app=shop` picks the colours' pods.
    expect(deployment.spec?.template.metadata?.labels?.app).toBe("shop-cutover-gatekeeper");
    expect(
      find<Deployment>(renderManifests(config({ gatekeeper: { image: IMAGE, replicas: 3 } })), "Deployment")
        .spec?.replicas,
    ).toBe(3);
  });

  it("gives the gatekeeper the config it reads, with nothing else of cutover.yaml, and rolls its pods when it changes", () => {
    const objects = renderManifests(
      config({ switchProbe: { url: "http://shop.example.com/" }, historyLimit: 7 }),
    );
    const text = String(find<ConfigMap>(objects, "ConfigMap").data?.["cutover.yaml"]);
    const read = parseConfig(text, "/etc/cutover/cutover.yaml").config;
    expect(read.service).toBe("shop");
    expect(read.platform).toBe("kubernetes");
    expect(read.kubernetes?.namespace).toBe("shop");
    expect(read.kubernetes?.readinessGate).toBe(true);
    expect(read.kubernetes?.kubeconfig).toBeUndefined(); // in the cluster: the pod's service account
    expect(read.kubernetes?.switchProbe).toBeUndefined();
    expect(read.kubernetes?.gatekeeper).toBeUndefined();
    const hash = (o: readonly KubeObject[]) =>
      find<Deployment>(o, "Deployment").spec?.template.metadata?.annotations?.["cutover.dev/config-hash"];
    expect(hash(objects)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(renderManifests(config({ namespace: "shop-2" })))).not.toBe(hash(objects));
  });

  it("grants the least it needs, by name where RBAC allows it, and binds it to its own account", () => {
    const objects = renderManifests(config());
    expect(find<Role>(objects, "Role").rules).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["pods/status"], verbs: ["patch"] },
      { apiGroups: [""], resources: ["services"], resourceNames: ["shop"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["shop-cutover-gatekeeper"],
        verbs: ["get", "update"],
      },
    ]);
    const binding = find<RoleBinding>(objects, "RoleBinding");
    expect(binding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "shop-cutover-gatekeeper",
    });
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "shop-cutover-gatekeeper", namespace: "shop" },
    ]);
  });

  it("renders nothing of it without kubernetes.gatekeeper, even with the readiness gate", () => {
    const plain = config({ gatekeeper: undefined });
    expect(gatekeeperManifests(plain, plain.kubernetes as never)).toEqual([]);
    expect(renderManifests(plain).map((o) => o.kind)).not.toContain("Role");
  });

  it("refuses a gatekeeper without the readiness gate, and a gatekeeper without an image", () => {
    // Refused as cutover.yaml is read, by every command, not only by render.
    expect(() => config({ readinessGate: false })).toThrow(ConfigError);
    expect(() => config({ readinessGate: false })).toThrow(
      /kubernetes\.gatekeeper: opens readiness gates, so it needs kubernetes\.readinessGate: true/,
    );
    expect(() => config({ gatekeeper: {} })).toThrow(ConfigError);
    expect(() => config({ gatekeeper: { image: IMAGE, replica: 2 } })).toThrow(/unknown field "replica"/);
  });
});
