/**
 * A rollback to the old colour while its scale-down waits for its drain: the scale-down must not then stop
 * the colour that has just become live again. Real processes: a request in flight on the old colour at the
 * switch holds its drain open past the scale-down delay, and the rollback lands in that window.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { eventually } from "../helpers/eventually.js";
import { type Project, runCli } from "../helpers/project.js";
import { downAll, makeDrillProject, up } from "../verify/verify-project.js";

const started: Project[] = [];
afterEach(() => downAll(started));

describe("reliability: rollback during a scale-down", () => {
  it("keeps the colour a rollback made live, even when its scale-down was waiting for its drain", async () => {
    const project = await makeDrillProject({ replicas: 1, scaleDownDelay: "1s", drainTimeout: "10s" });
    await up(project, started);
    const live = `http://127.0.0.1:${project.listen}`;
    const load = new LoadGenerator({
      url: live,
      connections: 4,
      maxDurationMs: 60_000,
      maxRequests: 1_000_000,
    });
    load.start();
    const statusNow = async (): Promise<ServiceStatus> => {
      const token = readFileSync(join(project.dir, ".cutover/token"), "utf8").trim();
      const answer = await fetch(`http://127.0.0.1:${project.admin}/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return (await answer.json()) as ServiceStatus;
    };
    let status: ServiceStatus;
    try {
      // In flight on blue across the switch: blue's drain lasts until it ends, 6 s from now.
      const held = fetch(`${live}/slow?ms=6000`).then((r) => r.status);
      // The load keeps blue's in-flight count above 0 anyway: give the slow request a round trip to get there.
      await sleep(200);
      expect((await runCli(project, "deploy", "2.0.0")).code).toBe(0);
      // The scale-down of blue fires after 1 s and waits for the drain; roll back to blue meanwhile.
      await eventually(
        "blue's scale-down fired",
        async () => (await statusNow()).colours.blue.scaleDownAt === null,
      );
      const rollback = await runCli(project, "--json", "rollback");
      expect(rollback.code, rollback.stdout).toBe(0);
      expect(await held).toBe(200);
      await sleep(2_000); // the drain is over: a scale-down that did not look again would stop blue now
      status = await statusNow();
    } finally {
      await load.stop();
    }
    expect(status.active).toBe("blue");
    expect(status.health, JSON.stringify(status.colours.blue)).toBe("Healthy");
    const summary = summarise(load.samples);
    expect(summary.failed, JSON.stringify(summary.errors)).toBe(0);
    const answer = await fetch(`${live}/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-cutover-colour")).toBe("blue");
  });
});
