/**
 * `cutover verify --switches 100` on Kubernetes: the real CLI, against the stand-in with real pods (the demo
 * app as local processes) behind a kube-proxy stand-in that follows selector changes 100 ms late, as
 * kube-proxy lags the API. Every request is accounted for: none fails, and after each switch (confirmed by
 * the switch probe on the new colour) every answer on a new connection comes from the expected colour.
 * Kept-alive connections are left out on purpose: kube-proxy keeps an open connection on the pod it
 * started with (conntrack), so it reaches the old colour until it closes, by design of Kubernetes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { CLI } from "../helpers/project.js";
import { type ClusterFixture, selectorOf, startCluster } from "./cluster-fixture.js";

let cluster: ClusterFixture | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function runVerify(
  yaml: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-k8s-verify-"));
  writeFileSync(join(dir, "cutover.yaml"), yaml);
  const child = spawn(
    process.execPath,
    [CLI, "--config", join(dir, "cutover.yaml"), "--json", "verify", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("cutover verify on Kubernetes", () => {
  it("--switches 100 under load: 0 failed requests, every answer after each switch from the expected colour", async () => {
    cluster = await startCluster({
      pods: "processes",
      // kube-proxy a little faster than its few hundred ms here, to keep 100 switches near half a minute.
      propagationMs: 100,
      deploy: { scaleDownDelay: "5s", smoke: [] },
      kubernetes: { switchProbe: { colourHeader: "x-app-environment", answers: 3, interval: "10ms" } },
    });
    // The same for the preview Service, which every switch waits on too (before it switches, the engine waits
    // until the preview serves the colour it starts): the fixture's preview lags the stand-in's default 300 ms,
    // which made each switch ~0.5 s instead of ~0.3 s. Still late, so the wait is still exercised.
    const preview = await cluster.standIn.serviceAddress("shop-preview", 100);
    const config = parse(cluster.yaml) as { kubernetes: { preview: string } };
    config.kubernetes.preview = `${preview.host}:${preview.port}`;
    const result = await runVerify(
      stringify(config),
      "--switches",
      "100",
      "--connection-mode",
      "fresh",
      "--rate",
      "300",
    );
    const report = JSON.parse(result.stdout);
    const failed = report.criteria.filter((c: { passed: boolean }) => !c.passed);
    expect(result.code, `${JSON.stringify(failed)}\n${result.stderr.slice(-2000)}`).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.switchedBy).toMatch(/Kubernetes/);
    expect(report.switches.performed).toBe(100);
    expect(report.requests.failed).toBe(0);
    expect(report.requests.sent).toBeGreaterThan(3_000);
    expect(report.criteria.map((c: { name: string; passed: boolean }) => [c.name, c.passed])).toEqual([
      ["failed requests", true],
      ["max latency", true],
      ["mean latency", true],
      ["answers from the expected colour after each switch", true],
      ["every step of the sequence succeeded", true],
    ]);
    // 100 switches from blue: traffic ends where it started.
    expect(selectorOf(cluster.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    console.log(
      `verify on Kubernetes: ${report.requests.sent} requests, ${report.requests.failed} failed, ${report.switches.performed} switches`,
    );
  }, 300_000); // ~40 s on a quiet machine: 100 switches, each confirmed through a lagging kube-proxy
});
