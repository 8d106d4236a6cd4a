import type { LoadedConfig } from "../config/load.js";
import type { GlobalFront } from "../front/global-front.js";

/** The global front cutover.yaml names (globalFront:), as the runner drives it; null without one. */
export async function frontFor(loaded: LoadedConfig): Promise<GlobalFront | null> {
  const front = loaded.config.globalFront;
  if (!front) return null;
  if (front.type === "builtin") {
    const { frontClientFor } = await import("../front/builtin-front-client.js");
    return frontClientFor(front, loaded.stateDir);
  }
  const { createAzureTrafficManagerFront } = await import("../front/azure/azure-traffic-manager-front.js");
  return createAzureTrafficManagerFront(front, loaded.config.regions ?? []);
}
