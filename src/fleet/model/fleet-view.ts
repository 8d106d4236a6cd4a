import type { ServiceStatus } from "../../engine/service-status.js";
import type { FleetRecord } from "./fleet-record.js";

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
