import { mkdirSync } from "node:fs";
import type { Logger } from "pino";
import type { BuiltinFrontConfig, RegionConfig } from "../config/fleet-schema.js";
import type { Address } from "../config/schema.js";
import { readOrCreateToken } from "../daemon/state-files.js";
import { ConfigError } from "../errors.js";
import { closeServer } from "../router/listen.js";
import { createFrontAdmin } from "./front-admin.js";
import { readDisabledRegions } from "./front-files.js";
import { listenFront } from "./front-listen.js";
import { FrontMetrics } from "./front-metrics.js";
import { FrontProxy } from "./front-proxy.js";
import { FrontRegion } from "./front-region.js";
import { FrontRegions } from "./front-regions.js";
import type { FrontRegionState } from "./global-front.js";
import { RegionProber } from "./region-prober.js";

/** How long close() lets requests in flight finish before it cuts them. */
const CLOSE_TIMEOUT_MS = 30_000;

export interface GlobalFrontOptions {
  readonly config: BuiltinFrontConfig;
  readonly regions: readonly RegionConfig[];
  /** The probe's path when globalFront.probe.path is not set: the config's health.path. */
  readonly healthPath: string;
  /** The front's own folder (token, regions.json), e.g. .cutover/global-front. */
  readonly stateDir: string;
  readonly logger: Logger;
  readonly closeTimeoutMs?: number;
}

export interface RunningFront {
  /** Where users' traffic is taken (the port actually bound when the config said 0). */
  readonly listen: Address;
  readonly admin: Address;
  /** The admin API's bearer token. */
  readonly token: string;
  states(): FrontRegionState[];
  /** Stops taking connections, lets the requests in flight finish (up to a deadline), stops probing. */
  close(): Promise<void>;
}

/** Starts cutover's built-in global front: the proxy, its admin API and a prober per region. */
export async function startGlobalFront(options: GlobalFrontOptions): Promise<RunningFront> {
  const { config, stateDir, logger } = options;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const token = config.token ?? readOrCreateToken(stateDir);
  const regions = new FrontRegions(frontRegionsOf(options, readDisabledRegions(stateDir)), stateDir);
  const metrics = new FrontMetrics(() => regions.states());
  const proxy = new FrontProxy({ regions: regions.list, routing: config.routing, metrics });
  const admin = createFrontAdmin({ token, regions, metrics, logger });
  const probers = regions.list.map((region) => proberFor(region, options));
  for (const prober of probers) prober.start();
  const stopAll = async (): Promise<void> => {
    await Promise.all(probers.map((prober) => prober.stop()));
    await Promise.all(regions.list.map((region) => region.pool.close().catch(() => undefined)));
  };
  try {
    const listen = await listenFront(proxy.server, config.listen, "listen");
    const adminAddress = await listenFront(admin, config.admin, "admin");
    logger.info(
      { listen, admin: adminAddress, routing: config.routing, regions: regions.states() },
      "global front started",
    );
    return {
      listen,
      admin: adminAddress,
      token,
      states: () => regions.states(),
      async close() {
        await closeGracefully(proxy, options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS);
        await closeServer(admin);
        await stopAll();
        logger.info("global front stopped");
      },
    };
  } catch (error) {
    await Promise.all([closeServer(proxy.server), closeServer(admin)]);
    await stopAll();
    throw error;
  }
}

/** The regions with their defaults: priority by place in the list, the drained ones from regions.json. */
function frontRegionsOf(options: GlobalFrontOptions, disabled: ReadonlySet<string>): FrontRegion[] {
  return options.regions.map((region, index) => {
    if (region.endpoint === undefined)
      throw new ConfigError("cutover.yaml", [
        `regions[${index}] (${region.name}): needs endpoint:, where the region serves its users, for the global front`,
      ]);
    return new FrontRegion({
      name: region.name,
      endpoint: region.endpoint,
      priority: region.priority ?? index + 1,
      weight: region.weight,
      enabled: !disabled.has(region.name),
    });
  });
}

function proberFor(region: FrontRegion, options: GlobalFrontOptions): RegionProber {
  const { probe } = options.config;
  const url = new URL(region.endpoint);
  url.pathname = region.basePath + (probe.path ?? options.healthPath);
  return new RegionProber({
    url: url.href,
    settings: {
      intervalMs: probe.interval,
      timeoutMs: probe.timeout,
      failureThreshold: probe.failureThreshold,
      successThreshold: probe.successThreshold,
    },
    onProbe: (healthy, result, changed) => {
      region.setHealth(healthy, result.detail);
      if (changed)
        options.logger[healthy ? "info" : "warn"](
          { region: region.name, healthy, detail: result.detail },
          healthy ? "region healthy" : "region unhealthy",
        );
    },
  });
}

/** Stops accepting; waits for what is in flight, up to `timeoutMs`, then cuts the rest; closes every connection. */
async function closeGracefully(proxy: FrontProxy, timeoutMs: number): Promise<void> {
  const server = proxy.server;
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (!(await proxy.inFlight.whenEmpty(timeoutMs))) proxy.inFlight.cancelAll();
  server.closeAllConnections();
  await closed;
}
