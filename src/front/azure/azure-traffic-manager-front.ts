import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { TrafficManagerManagementClient } from "@azure/arm-trafficmanager";
import type { TokenCredential } from "@azure/identity";
import type { AzureFrontConfig, RegionConfig } from "../../config/fleet-schema.js";
import { CutoverError } from "../../errors.js";
import type { FrontRegionState, GlobalFront } from "../global-front.js";
import { type ArmScope, armFailure } from "./arm-error.js";
import { LazyDefaultCredential } from "./default-credential.js";
import { regionStateOf } from "./endpoint-state.js";

/*
 * Azure Traffic Manager as the fleet's global front: each region is the external endpoint of the same name
 * in the profile `cutover render traffic-manager` wrote. Draining disables the endpoint (PATCH
 * endpointStatus), then waits until Traffic Manager reads it back Disabled and the profile's DNS TTL has
 * passed since the change: resolvers may hand out the old answer for that long (learn.microsoft.com,
 * traffic-manager-monitoring, "Endpoint failover and recovery", step 7). Restoring enables it, then waits
 * until the probe has seen it healthy: endpointMonitorStatus goes CheckingEndpoint (no probe yet) to
 * Online, or Degraded while the probe fails, where it waits on until it is Online or the signal stops it.
 */

const ENDPOINT_TYPE = "ExternalEndpoints";
const DEFAULT_ARM = "https://management.azure.com";

export interface AzureTrafficManagerFrontOptions {
  /** Default: DefaultAzureCredential (environment, workload or managed identity, Azure CLI). */
  readonly credential?: TokenCredential;
  /** How often an endpoint is read back while waiting; default 5 s (Traffic Manager probes every 10 or 30 s). */
  readonly pollMs?: number;
  /**
   * PEM certificates to trust for armEndpoint instead of the public CAs: a private ARM endpoint with its
   * own CA (Azure Stack Hub), or a test stand-in. The SDK sends its bearer token over HTTPS only.
   */
  readonly ca?: string;
}

export function createAzureTrafficManagerFront(
  config: AzureFrontConfig,
  regions: readonly RegionConfig[],
  options: AzureTrafficManagerFrontOptions = {},
): AzureTrafficManagerFront {
  return new AzureTrafficManagerFront(config, regions, options);
}

type Verb = "drain" | "restore";

export class AzureTrafficManagerFront implements GlobalFront {
  readonly kind = "azure-traffic-manager";
  readonly #client: TrafficManagerManagementClient;
  readonly #config: AzureFrontConfig;
  readonly #regions: readonly string[];
  readonly #pollMs: number;
  readonly #scope: ArmScope;

  constructor(
    config: AzureFrontConfig,
    regions: readonly RegionConfig[],
    options: AzureTrafficManagerFrontOptions,
  ) {
    const armEndpoint = (config.armEndpoint ?? DEFAULT_ARM).replace(/\/+$/, "");
    this.#config = config;
    this.#regions = regions.map((r) => r.name);
    this.#pollMs = options.pollMs ?? 5000;
    this.#scope = { ...config, armEndpoint };
    this.#client = new TrafficManagerManagementClient(
      options.credential ?? new LazyDefaultCredential(),
      config.subscriptionId,
      { endpoint: armEndpoint, ...(options.ca === undefined ? {} : { tlsOptions: { ca: options.ca } }) },
    );
  }

  async drain(region: string, signal?: AbortSignal): Promise<void> {
    this.#known(region);
    await this.#setStatus(region, "Disabled", signal);
    const changedAt = performance.now();
    const ttlMs = (await this.#dnsTtl(signal)) * 1000;
    await this.#waitFor(region, "drain", "Disabled", signal);
    const left = changedAt + ttlMs - performance.now();
    if (left > 0) await this.#pause(left, region, "drain", "Disabled, waiting out the DNS TTL", signal);
  }

  async restore(region: string, signal?: AbortSignal): Promise<void> {
    this.#known(region);
    await this.#setStatus(region, "Enabled", signal);
    await this.#waitFor(region, "restore", "Online", signal);
  }

  async status(signal?: AbortSignal): Promise<readonly FrontRegionState[]> {
    const profile = await this.#call("read the Traffic Manager profile", undefined, signal, (options) =>
      this.#client.profiles.get(this.#config.resourceGroup, this.#config.profile, options),
    );
    return (profile.endpoints ?? []).map(regionStateOf);
  }

  /** Nothing to release: the SDK's idle keep-alive sockets do not hold the process open. */
  async close(): Promise<void> {}

  #known(region: string): void {
    if (!this.#regions.includes(region))
      throw new CutoverError(
        "BAD_ARGUMENT",
        `no region "${region}" in regions: (they are ${this.#regions.map((r) => `"${r}"`).join(", ")}); name one of them`,
      );
  }

  async #setStatus(
    region: string,
    endpointStatus: "Enabled" | "Disabled",
    signal?: AbortSignal,
  ): Promise<void> {
    const action = `${endpointStatus === "Enabled" ? "enable" : "disable"} the endpoint "${region}"`;
    await this.#call(action, region, signal, (options) =>
      this.#client.endpoints.update(
        this.#config.resourceGroup,
        this.#config.profile,
        ENDPOINT_TYPE,
        region,
        { endpointStatus },
        options,
      ),
    );
  }

  /** The TTL resolvers cache the profile's answers for: the profile's own, or the configured one if longer. */
  async #dnsTtl(signal?: AbortSignal): Promise<number> {
    const profile = await this.#call("read the Traffic Manager profile", undefined, signal, (options) =>
      this.#client.profiles.get(this.#config.resourceGroup, this.#config.profile, options),
    );
    return Math.max(profile.dnsConfig?.ttl ?? 0, this.#config.dnsTtl);
  }

  /** Reads the endpoint back every pollMs until its endpointMonitorStatus is `wanted`. */
  async #waitFor(region: string, verb: Verb, wanted: string, signal?: AbortSignal): Promise<void> {
    let seen = "not read back yet";
    for (;;) {
      try {
        const endpoint = await this.#call(`read the endpoint "${region}"`, region, signal, (options) =>
          this.#client.endpoints.get(
            this.#config.resourceGroup,
            this.#config.profile,
            ENDPOINT_TYPE,
            region,
            options,
          ),
        );
        seen = endpoint.endpointMonitorStatus ?? "unknown";
      } catch (error) {
        if (signal?.aborted) throw notConfirmed(region, verb, seen, signal.reason);
        throw error;
      }
      if (seen === wanted) return;
      await this.#pause(this.#pollMs, region, verb, seen, signal);
    }
  }

  async #pause(ms: number, region: string, verb: Verb, seen: string, signal?: AbortSignal): Promise<void> {
    try {
      await sleep(ms, undefined, signal === undefined ? {} : { signal });
    } catch {
      throw notConfirmed(region, verb, seen, signal?.reason);
    }
  }

  async #call<T>(
    action: string,
    endpoint: string | undefined,
    signal: AbortSignal | undefined,
    call: (options: { readonly abortSignal?: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    try {
      return await call(signal === undefined ? {} : { abortSignal: signal });
    } catch (error) {
      if (signal?.aborted) throw stopped(action, signal.reason);
      throw armFailure(error, action, this.#scope, endpoint);
    }
  }
}

function stopped(action: string, reason: unknown): CutoverError {
  const why = reason instanceof Error ? ` (${reason.message})` : "";
  return new CutoverError(
    "FRONT_NOT_CONFIRMED",
    `stopped${why} before Traffic Manager answered the call to ${action}`,
  );
}

function notConfirmed(region: string, verb: Verb, seen: string, reason: unknown): CutoverError {
  const why = reason instanceof Error ? `: ${reason.message}` : "";
  if (verb === "restore")
    return new CutoverError(
      "FRONT_NOT_CONFIRMED",
      `stopped waiting${why} for Traffic Manager to see region "${region}" healthy; its endpoint is enabled but reads ${seen}${hint(seen)}. Make the region answer its health path, then restore it again`,
    );
  return new CutoverError(
    "FRONT_NOT_CONFIRMED",
    `stopped waiting${why} for Traffic Manager to take region "${region}" out; its endpoint reads ${seen}. Users may still reach it until the DNS TTL has passed after it reads Disabled`,
  );
}

function hint(seen: string): string {
  if (seen === "Degraded")
    return " (Traffic Manager's probe of it fails: see the profile's monitorConfig protocol, port and path)";
  if (seen === "CheckingEndpoint") return " (no probe result yet: Traffic Manager probes every 10 or 30 s)";
  return "";
}
