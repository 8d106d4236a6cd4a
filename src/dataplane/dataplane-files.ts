import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATAPLANE_FILE, DATAPLANE_SOCKET, type DataPlaneInfo } from "./protocol.js";

/** A Unix socket's path has room for 107 bytes; a deep state folder gets one in the temporary folder instead. */
const SOCKET_PATH_MAX = 100;

/** Where the data plane process of `stateDir` listens for its daemon. */
export function controlSocketPath(stateDir: string): string {
  const path = join(stateDir, DATAPLANE_SOCKET);
  if (Buffer.byteLength(path) <= SOCKET_PATH_MAX) return path;
  const hash = createHash("sha256").update(stateDir).digest("hex").slice(0, 16);
  return join(tmpdir(), `cutover-${hash}.sock`);
}

export function readDataPlaneInfo(stateDir: string): DataPlaneInfo | null {
  const path = join(stateDir, DATAPLANE_FILE);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DataPlaneInfo;
  } catch {
    return null;
  }
}

/** Removes what a data plane process that is gone left behind. */
export function removeDataPlaneFiles(stateDir: string, info: DataPlaneInfo | null): void {
  rmSync(join(stateDir, DATAPLANE_FILE), { force: true });
  if (info?.socket) rmSync(info.socket, { force: true });
}

/**
 * Whether `pid` runs cutover's data plane process (its command line names the entry script). Without /proc
 * (macOS) this cannot be read: true, and the nonce it answers hello with decides.
 */
export function isDataPlaneProcess(pid: number): boolean {
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dataplane-main");
  } catch {
    return false;
  }
}

/** A hash of cutover.yaml's `router:` settings: a data plane serving other ones was started before they changed. */
export function routerSettingsHash(router: unknown): string {
  return createHash("sha256").update(JSON.stringify(router)).digest("hex").slice(0, 16);
}
