/**
 * A fleet on one machine for the fleet tests: each region a real cutover daemon (router, local platform,
 * engine, admin API) with its own folder, ports and state, serving the demo app; and the fleet's own
 * cutover.yaml naming them over their admin APIs, as a runner elsewhere would.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import type { Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/log.js";
import { startDaemon } from "../helpers/daemon.js";
import { makeProject, type Project } from "../helpers/project.js";

export interface RegionUnderTest {
  readonly name: string;
  readonly project: Project;
  daemon: Daemon;
}

/**
 * Each region's own post-switch analysis: a region judges its own new colour (errors above 5% fail it), as
 * a user's regions would; the fleet adds the comparison across regions.
 */
const REGION_ANALYSIS = `analysis:
  interval: 250ms
  count: 8
  lookback: 2s
  minRequests: 20
  preSwitch: false
  conditions:
    - { metric: errorRate, max: 0.05 }
  judge: { minSamples: 3 }
  report: { enabled: false }
`;

export async function startRegions(
  names: readonly string[],
  releases: Readonly<Record<string, Record<string, Record<string, string>>>> = {},
): Promise<RegionUnderTest[]> {
  return Promise.all(
    names.map(async (name) => {
      const project = await makeProject({ extra: REGION_ANALYSIS, deploy: "  scaleDownDelay: 5m" });
      // makeProject writes scaleDownDelay: 1s; a fleet keeps the old colour warm until the whole fleet is done.
      const file = readFileSync(project.config, "utf8").replace("  scaleDownDelay: 1s\n", "");
      writeFileSync(project.config, file);
      for (const [version, env] of Object.entries({ "2.0.0": {}, ...(releases[name] ?? {}) }))
        project.release(version, env);
      return { name, project, daemon: await startDaemon(project) };
    }),
  );
}

/** The fleet's cutover.yaml (in region 0's folder, as fleet.yaml), and where its runner keeps its state. */
export function fleetConfig(regions: readonly RegionUnderTest[], extra: string): string {
  const lines = ["service: testsvc", "version: 1.0.0", "regions:"];
  for (const region of regions) {
    const loaded = loadConfig(region.project.config);
    const token = readFileSync(join(loaded.stateDir, "token"), "utf8").trim();
    lines.push(
      `  - name: ${region.name}`,
      `    admin: { url: "http://127.0.0.1:${region.project.admin}", token: "${token}" }`,
      `    endpoint: "http://127.0.0.1:${region.project.listen}"`,
    );
  }
  const file = join(regions[0]?.project.dir ?? ".", "fleet.yaml");
  writeFileSync(file, `${lines.join("\n")}\n${extra}`);
  return file;
}

export async function stopRegions(regions: readonly RegionUnderTest[]): Promise<void> {
  await Promise.allSettled(regions.map((r) => r.daemon.stop()));
}

export const quietLogger = silentLogger;
