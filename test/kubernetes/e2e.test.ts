/**
 * End to end against a real cluster (kind, minikube, or any other), only when CUTOVER_E2E_KUBECONFIG names
 * a kubeconfig; skipped otherwise, with the reason in the test's name. It works in a namespace of its own
 * (deleted afterwards) and needs an image whose /health answers 2xx and whose responses carry
 * x-app-version from APP_VERSION, tagged per version: CUTOVER_E2E_IMAGE, default the demo app
 * `cutover-demo-app:{version}` (see the README section "Kubernetes: try it on kind or minikube").
 * CUTOVER_E2E_PROBE_URL, when set, is the active Service as this machine reaches it (a NodePort), for the
 * switch confirmation.
 */
import { randomBytes } from "node:crypto";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createKubernetesEngine } from "../../src/compose/kubernetes-engine.js";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/log.js";
import { loadKubeConfig } from "../../src/platforms/kubernetes/kube-clients.js";
import { PodProxyFetcher } from "../../src/platforms/kubernetes/pod-proxy-fetcher.js";

const kubeconfig = process.env.CUTOVER_E2E_KUBECONFIG;
const reason = kubeconfig
  ? ""
  : " (skipped: set CUTOVER_E2E_KUBECONFIG to a kubeconfig of a test cluster to run it)";
const namespace = `cutover-e2e-${randomBytes(3).toString("hex")}`;

function loaded() {
  const probe = process.env.CUTOVER_E2E_PROBE_URL;
  const config = {
    service: "demo",
    version: "1.0.0",
    platform: "kubernetes",
    replicas: 2,
    health: { path: "/health", interval: "2s", timeout: "1s", startupGrace: "60s" },
    deploy: { readyTimeout: "180s", scaleDownDelay: "5s" },
    kubernetes: {
      namespace,
      kubeconfig,
      image: process.env.CUTOVER_E2E_IMAGE ?? "cutover-demo-app:{version}",
      containerPort: 8080,
      progressDeadlineSeconds: 120,
      resources: { requests: { cpu: "50m", memory: "64Mi" } },
      ...(probe ? { switchProbe: { url: probe, timeout: "60s" } } : {}),
    },
  };
  return parseConfig(stringify(config), `${process.cwd()}/cutover.yaml`);
}

describe("a blue-green cycle on a real cluster", () => {
  const core = () => loadKubeConfig({ kubeconfig }).makeApiClient(CoreV1Api);

  afterAll(async () => {
    if (kubeconfig)
      await core()
        .deleteNamespace({ name: namespace })
        .catch(() => undefined);
  });

  it.skipIf(!kubeconfig)(
    `bootstraps blue, deploys green, scales blue down, and rolls back${reason}`,
    { timeout: 600_000 },
    async () => {
      await core().createNamespace({ body: { metadata: { name: namespace } } });
      const bootstrap = await createKubernetesEngine(loaded(), silentLogger());
      await bootstrap.platform.start("blue", "1.0.0", 2);
      await bootstrap.platform.waitReady("blue", { timeoutMs: 180_000 });
      await bootstrap.close();

      const deploying = await createKubernetesEngine(loaded(), silentLogger());
      const record = await (await deploying.engine.deploy("2.0.0")).done;
      expect(record.phase, record.reason).toBe("Healthy");
      expect(deploying.router.active).toBe("green");
      await deploying.settle();
      await deploying.platform.refresh();
      expect(deploying.platform.status("blue").replicas).toHaveLength(0);

      const rolling = await createKubernetesEngine(loaded(), silentLogger());
      const back = await (await rolling.engine.rollback()).done;
      expect(back.phase, back.reason).toBe("Healthy");
      const service = await core().readNamespacedService({ name: "demo", namespace });
      expect(service.spec?.selector).toEqual({ app: "demo", version: "blue" });

      // What analysis with source: scrape reads on a cluster: a pod's /metrics through the pod proxy.
      await rolling.platform.refresh();
      const pod = rolling.platform.status("blue").replicas[0];
      expect(pod).toBeDefined();
      const page = await new PodProxyFetcher(rolling.clients).get(
        { id: pod?.id ?? "", host: pod?.host ?? "", port: pod?.port ?? 8080 },
        "/metrics",
        AbortSignal.timeout(10_000),
      );
      expect(page.status).toBe(200);
      expect(page.text).toContain("http_requests_total");
      await rolling.close();
    },
  );
});
