import { COLOURS, type Colour } from "../colour.js";
import type { ColourKeeper } from "./colour-keeper.js";
import type { DeployRecord } from "./lifecycle.js";
import type { SyncReading } from "./ports/database-sync.js";
import type { Platform } from "./ports/platform.js";
import type { ServiceState } from "./ports/state-store.js";
import type { TrafficRouter } from "./ports/traffic-router.js";
import type { ColourView, ServiceStatus } from "./service-status.js";

/** What `cutover status` is made from: the engine's state and the platform's, router's and keeper's views. */
export interface StatusSources {
  readonly service: string;
  readonly state: ServiceState;
  readonly platform: Platform;
  readonly router: TrafficRouter;
  readonly keeper: ColourKeeper;
  readonly deploy: DeployRecord | null;
  readonly lastDeploy: DeployRecord | null;
  readonly stateWriteError: string | null;
  readonly deployHolder: string | null;
  readonly databaseSync: SyncReading | null;
}

export function serviceStatus(from: StatusSources): ServiceStatus {
  const { state } = from;
  const view = (colour: Colour): ColourView => {
    const scaleDownAt = from.keeper.scaleDownAt(colour);
    return {
      ...from.platform.status(colour),
      role: colour === state.active ? "active" : "idle",
      recordedVersion: state.colours[colour].version,
      running: state.colours[colour].running,
      scaleDownAt: scaleDownAt === null ? null : new Date(scaleDownAt).toISOString(),
      inFlight: from.router.inFlight(colour),
    };
  };
  const colours = Object.fromEntries(COLOURS.map((c) => [c, view(c)])) as Record<Colour, ColourView>;
  return {
    service: from.service,
    health: colours[state.active].replicas.some((r) => r.ready) ? "Healthy" : "Degraded",
    active: state.active,
    colours,
    deploy: structuredClone(from.deploy),
    lastDeploy: from.lastDeploy,
    stateWriteError: from.stateWriteError,
    deployHolder: from.deployHolder,
    databaseSync: from.databaseSync,
    hold: from.router.requestHold?.holding() ?? null,
  };
}
