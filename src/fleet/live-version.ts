import type { ServiceStatus } from "../engine/service-status.js";

/** The version a region serves its users: its live colour's. */
export function liveVersion(status: ServiceStatus): string | null {
  return status.colours[status.active].recordedVersion;
}
