import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Project, runCli } from "../helpers/project.js";
import { downAll, fastStateDir, makeDrillProject, reportOf, up } from "../verify/verify-project.js";

/**
 * The same 1,000 switches through each data plane: the built-in router, and HAProxy driven by its runtime API.
 * The two run side by side (each its own project, daemon and ports): ~26 s together on a quiet 2-core machine
 * (~30 s one after the other), ~80 s each with the fault matrix running beside them (load 12);
 * --duration 150s is the bound the 1,000 must fit in.
 */
describe.concurrent.each(["builtin", "haproxy"] as const)(
  "reliability with router.dataPlane %s",
  (dataPlane) => {
    it("1,000 switches under load (keep-alive and fresh connections): 0 failed requests", {
      timeout: 180_000,
    }, async ({ onTestFinished }) => {
      // Each switch writes state.json and history.ndjson with fsync: on tmpfs that costs nothing, so the run
      // exercises the router and the engine rather than the disk.
      const stateDir = fastStateDir();
      const started: Project[] = [];
      onTestFinished(async () => {
        await downAll(started);
        if (stateDir) rmSync(stateDir, { recursive: true, force: true });
      });
      const project = await makeDrillProject({
        scaleDownDelay: "10m",
        drainTimeout: "2s",
        router: `  dataPlane: ${dataPlane}`,
        ...(stateDir ? { stateDir } : {}),
      });
      await up(project, started);
      const began = Date.now();
      const result = await runCli(project, "--json", "verify", "--switches", "1000", "--duration", "150s");
      const seconds = (Date.now() - began) / 1000;
      const report = reportOf(result);
      const { toFirstNew, toLastOld, command } = report.switches.durations;
      console.log(
        `${dataPlane}: 1,000 switches in ${seconds.toFixed(1)} s: ${report.requests.sent} requests, ${report.requests.failed} failed ` +
          `(${JSON.stringify(report.requests.failuresByKind)}); max latency ${report.requests.maxMs.toFixed(1)} ms; ` +
          `switch command median ${command.medianMs?.toFixed(1)} ms, first new-colour answer median ${toFirstNew.medianMs?.toFixed(1)} ms ` +
          `(max ${toFirstNew.maxMs?.toFixed(1)}), last old-colour answer median ${toLastOld.medianMs?.toFixed(1)} ms (max ${toLastOld.maxMs?.toFixed(1)})`,
      );
      expect(report.switches.performed).toBe(1000);
      expect(report.requests.failed).toBe(0);
      expect(report.criteria.find((c) => c.name === "every step of the sequence succeeded")?.passed).toBe(
        true,
      );
      expect(report.criteria.find((c) => c.name.startsWith("answers from the expected colour"))?.passed).toBe(
        true,
      );
      // Latency criteria are reported, not asserted here: a busy CI machine may exceed them without a fault.
      const history = JSON.parse((await runCli(project, "--json", "history")).stdout) as Array<{
        id: string;
        phase: string;
      }>;
      expect(history).toHaveLength(1000);
      expect(new Set(history.map((r) => r.id)).size).toBe(1000);
      expect(history.every((r) => r.phase === "Healthy")).toBe(true);
    });
  },
);
