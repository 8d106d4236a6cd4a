import type { ServiceStatus } from "../engine/service-status.js";
import type { FleetRecord } from "./fleet-record.js";
import { runnerAlive } from "./fleet-runner.js";
import type { Region } from "./region.js";

/** One region as the fleet view shows it: its status, or why it did not answer. */
export type RegionReading =
  | { readonly region: string; readonly where: string; readonly status: ServiceStatus }
  | { readonly region: string; readonly where: string; readonly error: string };

/** Every region of a fleet and its fleet deploy (in progress or the last), read at one moment. */
export interface FleetView {
  readonly service: string;
  readonly readAt: string;
  readonly fleetDeploy: FleetRecord | null;
  /** Why the fleet deploy record could not be read (a corrupt current.json); null when it could. */
  readonly fleetDeployError: string | null;
  /** A fleet deploy in progress whose runner on this machine is gone (`cutover abort` finishes it). */
  readonly runnerGone: boolean;
  readonly regions: readonly RegionReading[];
}

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
