import { runnerAlive } from "./fleet-runner.js";
import type { FleetRecord } from "./model/fleet-record.js";
import type { FleetView, RegionReading } from "./model/fleet-view.js";
import type { Region } from "./region.js";

export interface FleetViewSource {
  readonly service: string;
  readonly regions: readonly Region[];
  readonly store: { current(): FleetRecord | null };
}

/**
 * Reads every region's status in parallel, each given `timeoutMs` to answer: a region that is down or
 * hangs shows as its error, and never holds the others up.
 */
export async function readFleetView(source: FleetViewSource, timeoutMs: number): Promise<FleetView> {
  const regions = await Promise.all(source.regions.map((region) => readRegion(region, timeoutMs)));
  let fleetDeploy: FleetRecord | null = null;
  let fleetDeployError: string | null = null;
  try {
    fleetDeploy = source.store.current();
  } catch (error) {
    fleetDeployError = (error as Error).message;
  }
  return {
    service: source.service,
    readAt: new Date().toISOString(),
    fleetDeploy,
    fleetDeployError,
    runnerGone: fleetDeploy?.phase === "Progressing" && !runnerAlive(fleetDeploy),
    regions,
  };
}

async function readRegion(region: Region, timeoutMs: number): Promise<RegionReading> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const status = await Promise.race([region.control.status(), late]);
    return { region: region.name, where: region.where, status };
  } catch (error) {
    return { region: region.name, where: region.where, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
