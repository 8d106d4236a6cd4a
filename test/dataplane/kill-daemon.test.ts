import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readDaemonInfo } from "../../src/daemon/state-files.js";
import { readDataPlaneInfo } from "../../src/dataplane/dataplane-files.js";
import { eventually } from "../helpers/eventually.js";
import { runCli } from "../helpers/project.js";
import { steadyLoad } from "../helpers/steady-load.js";
import {
  answered,
  downAll,
  expectNoFailures,
  killDaemon,
  project,
  replicaPids,
  stateDir,
  status,
  up,
} from "./dataplane-helpers.js";

afterEach(downAll);

describe("the data plane outlives the daemon", () => {
  for (const dataPlane of ["builtin", "haproxy"] as const) {
    it(`kill -9 of the daemon under load, then \`cutover up\`: 0 failed, the same replicas taken over (${dataPlane})`, async () => {
      const p = await project(dataPlane === "haproxy" ? { router: "  dataPlane: haproxy" } : {});
      await up(p);
      const before = await status(p);
      const plane = readDataPlaneInfo(stateDir(p));
      expect(plane?.pid).toBeTypeOf("number");
      const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 200, maxDurationMs: 90_000 });
      await answered(load, 100, "before the kill");
      const daemon = await killDaemon(p);
      await answered(load, 300, "with no daemon");
      expect(load.failed()).toBe(0);
      const offline = await runCli(p, "status");
      expect(offline.stdout).toMatch(new RegExp(`the data plane \\(pid ${plane?.pid}\\) still serves`));
      await up(p);
      await answered(load, 100, "after `cutover up`");
      expectNoFailures(await load.stop());
      const after = await status(p);
      expect(readDaemonInfo(stateDir(p))?.pid).not.toBe(daemon);
      // The same data plane process and the same replica processes: taken over, not restarted.
      expect(readDataPlaneInfo(stateDir(p))?.pid).toBe(plane?.pid);
      expect(replicaPids(after).sort()).toEqual(replicaPids(before).sort());
      expect(after.colours[after.active].replicas.every((r) => r.ready && r.restarts === 0)).toBe(true);
      expect(readFileSync(join(stateDir(p), "logs/blue-0.log"), "utf8")).toMatch(/adopted by a new daemon/);
      // Health checking resumed: a replica killed now is restarted by the new daemon.
      const [victim] = replicaPids(after);
      process.kill(victim as number, "SIGKILL");
      await eventually(
        "the new daemon restarted the killed replica",
        async () => {
          const s = await status(p);
          return s.colours[s.active].replicas.some((r) => r.restarts === 1 && r.ready);
        },
        30_000,
      );
    });
  }

  it("SIGTERM: the daemon leaves and the data plane serves on; `cutover up --replace` takes over under load, 0 failed", async () => {
    const p = await project();
    await up(p);
    const plane = readDataPlaneInfo(stateDir(p));
    const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 200, maxDurationMs: 90_000 });
    await answered(load, 100, "before SIGTERM");
    await killDaemon(p, "SIGTERM");
    await answered(load, 200, "after the daemon left");
    const replaced = readDaemonInfo(stateDir(p));
    expect(replaced).toBeNull(); // it removed its daemon.json on the way out
    await up(p);
    const first = readDaemonInfo(stateDir(p))?.pid;
    // A daemon of this very cutover is replaced only when asked to: the handover of an upgrade, by hand.
    const again = await runCli(p, "up");
    expect(again.stdout).toMatch(/already up/);
    const handover = await runCli(p, "up", "--replace");
    expect(handover.code, handover.stderr).toBe(0);
    expect(handover.stdout).toMatch(new RegExp(`took over from the daemon of pid ${first}`));
    await answered(load, 100, "after the handover");
    expectNoFailures(await load.stop());
    expect(readDataPlaneInfo(stateDir(p))?.pid).toBe(plane?.pid);
  });
});
