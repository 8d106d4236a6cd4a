import { setTimeout as sleep } from "node:timers/promises";
import type { LoadedConfig } from "../config/load.js";
import type { Address } from "../config/schema.js";
import { isProcessAlive, readDaemonInfo } from "../daemon/state-files.js";
import { CutoverError } from "../errors.js";
import { httpUrl } from "../host-port.js";
import type { AdminApi } from "./admin-api.js";
import { AdminApiDriver } from "./admin-api-driver.js";
import type { FaultTarget } from "./faults/fault.js";

/** http://host:port for an address the router listens on; a wildcard host is reached through loopback. */
export function addressUrl(address: Address): string {
  const host =
    address.host === "0.0.0.0" || address.host === "::" || address.host === "" ? "127.0.0.1" : address.host;
  return httpUrl({ host, port: address.port });
}

/** The running local cutover of `loaded`, as the faults act on it. `startDaemon` is `cutover up`. */
export function localCutover(
  loaded: LoadedConfig,
  api: AdminApi,
  startDaemon: () => Promise<void>,
): FaultTarget {
  const { config, stateDir } = loaded;
  return {
    driver: new AdminApiDriver(
      api,
      `the admin API of ${config.service} (${addressUrl(config.router.admin)})`,
    ),
    listenUrl: addressUrl(config.router.listen),
    replicas: config.replicas,
    drainTimeoutMs: config.router.drainTimeout,
    readyTimeoutMs: config.deploy.readyTimeout,
    analysisConfigured: config.analysis !== undefined,
    async killDaemon() {
      const info = readDaemonInfo(stateDir);
      if (!info || !isProcessAlive(info.pid)) {
        throw new CutoverError(
          "DAEMON_NOT_RUNNING",
          `no live daemon in ${stateDir}; start it with \`cutover up\``,
        );
      }
      process.kill(info.pid, "SIGKILL");
      const deadline = Date.now() + 10_000;
      while (isProcessAlive(info.pid) && Date.now() < deadline) await sleep(10);
      return info.pid;
    },
    restartDaemon: startDaemon,
  };
}
