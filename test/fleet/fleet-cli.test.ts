/**
 * The fleet from the command line, as a CI job runs it: `cutover deploy` runs the waves in its own process;
 * killed with -9 between waves, it leaves a record that `cutover status` explains and `cutover abort`
 * finishes; a live runner asked by `cutover abort` halts by itself.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import type { FleetRecord } from "../../src/fleet/model/fleet-record.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../helpers/eventually.js";
import { CLI, runCli } from "../helpers/project.js";
import { type SteadyLoad, steadyLoad } from "../helpers/steady-load.js";
import {
  fleetConfig,
  type RegionUnderTest,
  startRegions,
  stopRegions,
  usersOnBlue,
} from "./fleet-helpers.js";

const FLEET = `waves:
  - [a]
  - [b]
fleet: { bake: 60s, judgeInterval: 250ms, stateDir: fleet-state }
`;

let regions: RegionUnderTest[] = [];
let loads: SteadyLoad[] = [];
afterEach(async () => {
  await Promise.all(loads.map((l) => l.stop()));
  await stopRegions(regions);
  regions = [];
  loads = [];
});

/** Users of every region: each region's own analysis judges its new colour on them. */
function usersOf(regions: readonly RegionUnderTest[]): void {
  loads = regions.map((r) =>
    steadyLoad(`http://127.0.0.1:${r.project.listen}`, { ratePerSecond: 40, maxDurationMs: 100_000 }),
  );
}

function current(config: string): FleetRecord | null {
  try {
    return JSON.parse(readFileSync(join(config, "..", "fleet-state", "current.json"), "utf8")) as FleetRecord;
  } catch {
    return null;
  }
}

/** Starts `cutover deploy 2.0.0` on the fleet (once users are on 1.0.0) and resolves once its first wave bakes. */
async function runnerInFirstBake(config: string) {
  const fleet = await Fleet.open(loadConfig(config), silentLogger());
  await usersOnBlue(fleet).finally(() => fleet.close());
  const child = spawn(process.execPath, [CLI, "--config", config, "deploy", "2.0.0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (exit) => {
      code = exit;
      resolve(exit);
    }),
  );
  await eventually(
    "the first wave bakes",
    () => {
      if (code !== undefined) throw new Error(`the runner exited ${code} before: ${stderr}`);
      return current(config)?.waves[0]?.state === "baking";
    },
    60_000,
  ).catch((error: Error) => {
    child.kill("SIGKILL");
    throw new Error(
      `${error.message}; the runner said: ${stderr}; record: ${JSON.stringify(current(config))}`,
    );
  });
  return { child, exited, stderr: () => stderr };
}

interface StatusJson {
  fleetDeploy: FleetRecord | null;
  runnerGone: boolean;
  regions: { region: string; liveVersion: string | null }[];
}

async function fleetStatus(config: string): Promise<StatusJson> {
  const result = await runCli({ config }, "--json", "status");
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

const liveVersions = (status: StatusJson) =>
  Object.fromEntries(status.regions.map((r) => [r.region, r.liveVersion]));

describe("cutover on a fleet", { timeout: 120_000 }, () => {
  it("a runner killed between waves: status says where each region is, abort brings every region back", async () => {
    regions = await startRegions(["a", "b"]);
    usersOf(regions);
    const config = fleetConfig(regions, FLEET);
    const runner = await runnerInFirstBake(config);
    runner.child.kill("SIGKILL");
    await runner.exited;

    const status = await fleetStatus(config);
    expect(status.runnerGone).toBe(true);
    expect(status.fleetDeploy?.phase).toBe("Progressing");
    expect(liveVersions(status)).toEqual({ a: "2.0.0", b: "1.0.0" });
    const human = await runCli({ config }, "status");
    expect(human.stdout).toMatch(/is gone: run `cutover abort`/);
    expect(human.stdout).toMatch(/a .*live (blue|green) 2\.0\.0.*fleet: switched/);

    // A new fleet deploy is refused until the old one is finished.
    const again = await runCli({ config }, "deploy", "3.0.0");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has not ended .* run `cutover abort`/);

    const abort = await runCli({ config }, "--json", "abort");
    expect(abort.code, abort.stderr).toBe(0);
    const record = JSON.parse(abort.stdout) as FleetRecord;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/runner .* is gone/);
    expect(record.regions.a?.state).toBe("rolled-back");
    expect(record.regions.b?.state).toBe("pending");
    expect(liveVersions(await fleetStatus(config))).toEqual({ a: "1.0.0", b: "1.0.0" });

    const history = await runCli({ config }, "--json", "history");
    expect((JSON.parse(history.stdout) as FleetRecord[]).map((r) => r.id)).toEqual([record.id]);
    // One region alone, through --region: its own status and history.
    const one = await runCli({ config }, "--json", "--region", "a", "history");
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as { kind: string }[]).map((r) => r.kind)).toEqual(["deploy", "rollback"]);
  });

  it("`cutover abort` asks a live runner to halt: it sends the switched region back and exits 1", async () => {
    regions = await startRegions(["a", "b"]);
    usersOf(regions);
    const config = fleetConfig(regions, FLEET);
    const runner = await runnerInFirstBake(config);
    const abort = await runCli({ config }, "--json", "abort");
    expect(abort.code, abort.stderr).toBe(0);
    expect(await runner.exited).toBe(1);
    const record = JSON.parse(abort.stdout) as FleetRecord;
    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(/the runner got SIGTERM/);
    expect(record.regions.a?.state).toBe("rolled-back");
    expect(runner.stderr()).toMatch(/halting the fleet deploy/);
    expect(liveVersions(await fleetStatus(config))).toEqual({ a: "1.0.0", b: "1.0.0" });
  });

  it("refuses an unknown --region and names the regions", async () => {
    regions = await startRegions(["a"]);
    const config = fleetConfig(regions, "");
    const result = await runCli({ config }, "--region", "x", "status");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--region x: no such region .* \(regions are a\)/);
  });
});
