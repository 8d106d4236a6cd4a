/** Runs the whole daemon (router, local platform, engine, admin API) in the test process. */
import { loadConfig } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/log.js";
import type { Project } from "./project.js";

export async function startDaemon(project: Project): Promise<Daemon> {
  return Daemon.start({ loaded: loadConfig(project.config), logger: silentLogger() });
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
