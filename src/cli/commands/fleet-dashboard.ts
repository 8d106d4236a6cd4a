import { destination, pino } from "pino";
import { parseAddress } from "../../config/address.js";
import { redactSecrets } from "../../config/interpolate.js";
import type { LoadedConfig } from "../../config/load.js";
import { FleetDashboardServer } from "../../dashboard/fleet-dashboard-server.js";
import { CutoverError } from "../../errors.js";
import { Fleet } from "../../fleet/fleet-runner.js";
import { readFleetView } from "../../fleet/read-fleet-view.js";
import type { Output } from "../output.js";

/** A region that has not answered within this counts as unreachable for this refresh. */
const REGION_TIMEOUT_MS = 3_000;

export interface FleetDashboardCommandOptions {
  /** "host:port" on loopback; default: 127.0.0.1 on a free port. */
  readonly listen?: string;
  /** Opens the address in a browser; resolves whether one could be started. */
  readonly open?: (url: string) => Promise<boolean>;
}

/**
 * `cutover dashboard` on a fleet: serves the fleet page from this process until SIGINT or SIGTERM, reading
 * every region through its own control plane at each refresh, then closes the regions.
 */
export async function fleetDashboardCommand(
  loaded: LoadedConfig,
  out: Output,
  options: FleetDashboardCommandOptions,
): Promise<number> {
  const listen = listenAddress(options.listen);
  const logger = pino(
    { level: process.env.CUTOVER_LOG_LEVEL ?? "warn", hooks: { streamWrite: redactSecrets } },
    destination(2),
  );
  const fleet = await Fleet.open(loaded, logger);
  let server: FleetDashboardServer;
  try {
    server = await FleetDashboardServer.start({
      listen,
      logger,
      read: () =>
        readFleetView(
          { service: loaded.config.service, regions: fleet.regions, store: fleet.store },
          REGION_TIMEOUT_MS,
        ),
    });
  } catch (error) {
    await fleet.close();
    throw error;
  }
  const opened = options.open ? await options.open(server.url) : null;
  const regions = fleet.regions.map((r) => r.name);
  out.result({ url: server.url, service: loaded.config.service, regions, opened }, () =>
    [
      `Fleet dashboard of ${loaded.config.service} (${regions.join(", ")}):`,
      `  ${server.url}`,
      "The token is after the #: the browser keeps it in this tab and never sends it in the address. A new one is made at every start; share the link with no one.",
      ...(opened === null
        ? []
        : [opened ? "Opened in your browser." : "Could not open a browser; open the address yourself."]),
      "It runs until Ctrl-C.",
    ].join("\n"),
  );
  const signal = await untilSignal();
  await server.close();
  await fleet.close();
  if (!out.json) process.stderr.write(`cutover: got ${signal}; the fleet dashboard stopped\n`);
  return 0;
}

function listenAddress(value: string | undefined): { host: string; port: number } {
  if (value === undefined) return { host: "127.0.0.1", port: 0 };
  const parsed = parseAddress(value);
  if (!parsed)
    throw new CutoverError(
      "BAD_ARGUMENT",
      `--listen expects host:port on loopback, such as 127.0.0.1:8090, got "${value}"`,
    );
  return parsed;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}
