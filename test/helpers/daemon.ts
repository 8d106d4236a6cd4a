/** Runs the whole daemon (router, local platform, engine, admin API) in the test process. */
import { loadConfig } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/log.js";
import type { Project } from "./project.js";

export async function startDaemon(project: Project): Promise<Daemon> {
  return Daemon.start({ loaded: loadConfig(project.config), logger: silentLogger() });
}
