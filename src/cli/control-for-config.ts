import type { LoadedConfig } from "../config/load.js";
import { CutoverError, EXIT_BAD_INPUT } from "../errors.js";
import { AdminClient } from "./admin-client.js";
import type { ControlPlane } from "./control-plane.js";
import { DaemonControl } from "./daemon-control.js";

/** The control plane for the config's platform. */
export async function controlFor(loaded: LoadedConfig): Promise<ControlPlane> {
  if (loaded.config.platform === "kubernetes") {
    throw new CutoverError(
      "PLATFORM_UNAVAILABLE",
      "platform: kubernetes is not wired into this build's CLI yet; use `cutover render kubernetes`",
      EXIT_BAD_INPUT,
    );
  }
  return new DaemonControl(AdminClient.forConfig(loaded));
}
