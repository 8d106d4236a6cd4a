import type { Logger } from "pino";
import type { DeployRecord } from "../engine/lifecycle.js";
import { isErrorCode } from "../errors.js";
import { liveVersion } from "./live-version.js";
import {
  endFleet,
  type FleetRecord,
  type FleetRegionRecord,
  regionsInPlay,
  servesNewVersion,
  setRegion,
} from "./model/fleet-record.js";
import type { Region } from "./region.js";

export interface HaltOptions {
  readonly record: FleetRecord;
  readonly regions: readonly Region[];
  readonly reason: string;
  readonly save: () => void;
  readonly logger: Logger;
}

/**
 * Halts a fleet deploy: a region still deploying is aborted (its own cutover puts traffic back on its live
 * colour); a region that serves the new version because of this deploy is rolled back to its old colour,
 * still warm; regions not reached are left alone. All regions at once. The runner calls it on a failure,
 * a Fail verdict or a signal; `cutover abort` calls it for a runner that is gone.
 */
export async function haltFleet(o: HaltOptions): Promise<void> {
  await Promise.all(regionsInPlay(o.record).map((r) => sendBack(o, r)));
  endFleet(o.record, "Aborted", o.reason);
  o.save();
}

async function sendBack(o: HaltOptions, fleetRegion: FleetRegionRecord): Promise<void> {
  const region = o.regions.find((r) => r.name === fleetRegion.name);
  if (!region) return;
  const wasSwitched = fleetRegion.state === "switched";
  try {
    if (!wasSwitched) await region.control.abort().catch(ignoreNoDeploy);
    const status = await region.control.status();
    if (!servesNewVersion(o.record, fleetRegion, liveVersion(status))) {
      setRegion(
        o.record,
        fleetRegion.name,
        wasSwitched ? "rolled-back" : "stopped",
        wasSwitched ? `already back on ${liveVersion(status)}` : `stopped before its switch: ${o.reason}`,
      );
      return;
    }
    let last: DeployRecord | null = null;
    for await (const step of region.control.follow("rollback")) last = step;
    if (last?.phase === "Healthy")
      setRegion(
        o.record,
        fleetRegion.name,
        "rolled-back",
        `sent back to ${fleetRegion.fromVersion}: ${o.reason}`,
      );
    else
      setRegion(
        o.record,
        fleetRegion.name,
        "failed",
        `its rollback ended ${last?.phase ?? "without an answer"}: ${last?.reason ?? ""}; run \`cutover rollback --region ${fleetRegion.name}\``,
      );
  } catch (error) {
    setRegion(
      o.record,
      fleetRegion.name,
      "failed",
      `could not be sent back: ${(error as Error).message}; run \`cutover rollback --region ${fleetRegion.name}\``,
    );
    o.logger.error({ region: fleetRegion.name, err: error }, "region not sent back");
  } finally {
    o.save();
  }
}

/** An abort that found no deploy in progress: the region's deploy had already ended. */
function ignoreNoDeploy(error: unknown): void {
  if (
    error instanceof Error &&
    "code" in error &&
    isErrorCode(error.code) &&
    (error.code === "NO_DEPLOY" || error.code === "NOT_PAUSED")
  )
    return;
  throw error;
}
