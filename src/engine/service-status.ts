import type { Colour } from "../colour.js";
import type { DeployRecord } from "./lifecycle.js";
import type { SyncReading } from "./ports/database-sync.js";
import type { ColourStatus } from "./ports/platform.js";
import type { HoldState } from "./ports/traffic-router.js";

/** What `cutover status` shows of one colour: the platform's view and what the engine recorded. */
export interface ColourView extends ColourStatus {
  readonly role: "active" | "idle";
  /** The version recorded for this colour, even when it is not running. */
  readonly recordedVersion: string | null;
  readonly running: boolean;
  readonly scaleDownAt: string | null;
  readonly inFlight: number;
}

/** What `cutover status`, the admin API and the dashboard show of a service. */
export interface ServiceStatus {
  readonly service: string;
  /** Healthy when the active colour has a ready replica, Degraded when it has none. */
  readonly health: "Healthy" | "Degraded";
  readonly active: Colour;
  readonly colours: Readonly<Record<Colour, ColourView>>;
  readonly deploy: DeployRecord | null;
  readonly lastDeploy: DeployRecord | null;
  /** Why .cutover/ could not be written (e.g. a full disk); the daemon keeps trying. null when all is written. */
  readonly stateWriteError: string | null;
  /** Who runs the deploy in progress when another process does (a shared store says), and how fresh its lock was. */
  readonly deployHolder?: string | null;
  /** The two colours' databases kept in sync (database.sync: logical): the last reading; null without sync. */
  readonly databaseSync?: SyncReading | null;
  /** New requests held at the router (`cutover pause`, or a database switchover); null when none are. */
  readonly hold?: HoldState | null;
}
