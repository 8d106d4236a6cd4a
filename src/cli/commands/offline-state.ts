import { existsSync } from "node:fs";
import type { LoadedConfig } from "../../config/load.js";
import { readDataPlaneInfo } from "../../dataplane/dataplane-files.js";
import { FileStateStore } from "../../engine/file-state-store.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import type { ServiceState } from "../../engine/ports/state-store.js";
import { hasCode } from "../../errors.js";
import { httpUrl } from "../../host-port.js";
import { isProcessAlive } from "../../process/process-alive.js";

/** What .cutover/ recorded, read without the daemon: the state (null before the first `cutover up`) and the history. */
export interface RecordedState {
  readonly state: ServiceState | null;
  readonly history: DeployRecord[];
  /** The data plane process a daemon that is gone left serving, if one runs. */
  readonly dataPlane: { readonly pid: number; readonly listen: string } | null;
}

/** The data plane process of `stateDir` when it still runs without its daemon. */
function servingDataPlane(stateDir: string): RecordedState["dataPlane"] {
  const info = readDataPlaneInfo(stateDir);
  if (info === null || !isProcessAlive(info.pid)) return null;
  return { pid: info.pid, listen: httpUrl(info.listen) };
}

/** .cutover/'s state and history, or null when nothing was recorded there (no folder, no state, no history). */
export async function readRecorded(loaded: LoadedConfig): Promise<RecordedState | null> {
  if (!existsSync(loaded.stateDir)) return null;
  const store = new FileStateStore(loaded.stateDir);
  const [state, history] = [await store.loadState(), await store.loadHistory()];
  return state === null && history.length === 0
    ? null
    : { state, history, dataPlane: servingDataPlane(loaded.stateDir) };
}

/**
 * `read()` through the daemon; when it is not running (local platform only: on Kubernetes the cluster holds
 * the state) what .cutover/ recorded instead, if anything. The daemon's error stands when nothing was recorded.
 */
export async function liveOrRecorded<T>(
  loaded: LoadedConfig,
  read: () => Promise<T>,
): Promise<{ live: T } | { recorded: RecordedState; daemonDown: string }> {
  try {
    return { live: await read() };
  } catch (error) {
    if (loaded.config.platform === "kubernetes" || !hasCode(error, "DAEMON_NOT_RUNNING")) throw error;
    const recorded = await readRecorded(loaded);
    if (!recorded) throw error;
    return { recorded, daemonDown: error.message };
  }
}
