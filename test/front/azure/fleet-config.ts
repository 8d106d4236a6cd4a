/** cutover.yaml for a fleet behind Azure Traffic Manager, parsed by the real loader, for the tests here. */
import { stringify } from "yaml";
import type { AzureFrontConfig, RegionConfig } from "../../../src/config/fleet-schema.js";
import { type LoadedConfig, parseConfig } from "../../../src/config/load.js";

export const SUBSCRIPTION = "00000000-0000-0000-0000-00000000cafe";
export const RESOURCE_GROUP = "shop-global";
export const PROFILE = "shop-front";

export interface FleetOptions {
  /** Each region's endpoint URL, by name, in order. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly front?: Readonly<Record<string, unknown>>;
  readonly regionExtras?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export function fleetYaml(options: FleetOptions): string {
  const regions = Object.entries(options.endpoints).map(([name, endpoint], i) => ({
    name,
    admin: { url: `http://127.0.0.1:${7100 + i}`, token: "a-region-admin-token" },
    endpoint,
    ...options.regionExtras?.[name],
  }));
  return stringify({
    service: "shop",
    version: "1.0.0",
    health: { path: "/healthz" },
    regions,
    globalFront: {
      type: "azure-traffic-manager",
      subscriptionId: SUBSCRIPTION,
      resourceGroup: RESOURCE_GROUP,
      profile: PROFILE,
      ...options.front,
    },
  });
}

export function loadFleet(options: FleetOptions): LoadedConfig {
  return parseConfig(fleetYaml(options), "/srv/shop/cutover.yaml", {});
}

export function azureParts(loaded: LoadedConfig): {
  front: AzureFrontConfig;
  regions: readonly RegionConfig[];
} {
  const { globalFront, regions } = loaded.config;
  if (globalFront?.type !== "azure-traffic-manager" || !regions) throw new Error("not an Azure fleet config");
  return { front: globalFront, regions };
}
