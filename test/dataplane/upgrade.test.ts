/**
 * Upgrade in place: the previous commit's cutover, built in a temporary folder, replaced by this one under
 * load, with the data plane process it started served on and driven by the new daemon.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readDaemonInfo } from "../../src/daemon/state-files.js";
import { readDataPlaneInfo } from "../../src/dataplane/dataplane-files.js";
import { isAlive } from "../helpers/eventually.js";
import { runCli, runCliOf } from "../helpers/project.js";
import { steadyLoad } from "../helpers/steady-load.js";
import { answered, downAll, expectNoFailures, project, stateDir } from "./dataplane-helpers.js";
import { previousBuild } from "./previous-build.js";

afterEach(downAll);

describe("upgrade in place", () => {
  let previous: { main: string; commit: string };
  // TypeScript's emit of the whole tree: half a minute on a busy machine.
  beforeAll(() => {
    previous = previousBuild();
  }, 300_000);

  it("a daemon of the previous commit (built in a temporary folder) is replaced by this cutover's under load: 0 failed", async () => {
    const p = await project();
    const old = await runCliOf(previous.main, p, "up");
    expect(old.code, old.stderr).toBe(0);
    const oldDaemon = readDaemonInfo(stateDir(p));
    const plane = readDataPlaneInfo(stateDir(p));
    const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 200, maxDurationMs: 90_000 });
    await answered(load, 100, "from the previous commit's cutover");
    // This cutover's `cutover up` finds a daemon of another build, asks it to leave, and takes over.
    const upgrade = await runCli(p, "up");
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toMatch(new RegExp(`took over from the daemon of pid ${oldDaemon?.pid}`));
    expect(isAlive(oldDaemon?.pid as number)).toBe(false);
    await answered(load, 200, "after the upgrade");
    expectNoFailures(await load.stop());
    // The data plane the old cutover started serves on, driven by the new daemon: a deploy goes through it.
    expect(readDataPlaneInfo(stateDir(p))?.pid).toBe(plane?.pid);
    p.release("2.0.0");
    const deploy = await runCli(p, "deploy", "2.0.0");
    expect(deploy.code, deploy.stderr).toBe(0);
    const answer = await fetch(`http://127.0.0.1:${p.listen}/`);
    expect(answer.headers.get("x-cutover-colour")).toBe("green");
    await answer.arrayBuffer();
  });
});
