import type { DnsConfig, Endpoint, MonitorConfig } from "@azure/arm-trafficmanager";
import type { AzureFrontConfig, RegionConfig } from "../../config/fleet-schema.js";
import { ConfigError } from "../../errors.js";
import { monitorConfigFor, type ProbeTarget } from "./traffic-manager-monitor.js";

/*
 * `cutover render traffic-manager`: an ARM template with one Traffic Manager profile in front of the fleet,
 * one external endpoint per region, named after the region (the name AzureTrafficManagerFront drains and
 * restores). Field names and shapes are Microsoft.Network/trafficmanagerprofiles at API version 2022-04-01
 * (learn.microsoft.com/azure/templates/microsoft.network/trafficmanagerprofiles, and the REST reference's
 * Profile, DnsConfig, MonitorConfig and Endpoint definitions); the nested objects are typed with
 * @azure/arm-trafficmanager's own interfaces, whose wire names are the same.
 */

export const TRAFFIC_MANAGER_API_VERSION = "2022-04-01";
export const PROFILE_TYPE = "Microsoft.Network/trafficmanagerprofiles";
export const EXTERNAL_ENDPOINT_TYPE = "Microsoft.Network/trafficManagerProfiles/externalEndpoints";
const TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/** An endpoint's `properties` on the wire: the SDK's flattened Endpoint less the resource fields. */
export type EndpointProperties = Omit<Endpoint, "id" | "name" | "type">;

export interface ArmEndpoint {
  readonly name: string;
  readonly type: typeof EXTERNAL_ENDPOINT_TYPE;
  readonly properties: EndpointProperties;
}

export interface ArmProfile {
  readonly type: typeof PROFILE_TYPE;
  readonly apiVersion: typeof TRAFFIC_MANAGER_API_VERSION;
  readonly name: string;
  readonly location: "global";
  readonly properties: {
    readonly profileStatus: "Enabled";
    readonly trafficRoutingMethod: "Priority" | "Weighted";
    readonly dnsConfig: DnsConfig;
    readonly monitorConfig: MonitorConfig;
    readonly endpoints: readonly ArmEndpoint[];
  };
}

export interface ArmTemplate {
  readonly $schema: string;
  readonly contentVersion: "1.0.0.0";
  /** Free-form in ARM; `notes` says which settings Traffic Manager could not take as written. */
  readonly metadata: { readonly _generator: { readonly name: "cutover" }; readonly notes: readonly string[] };
  readonly resources: readonly [ArmProfile];
}

export interface RenderedTrafficManager {
  readonly template: ArmTemplate;
  readonly notes: readonly string[];
}

export interface RenderTrafficManagerInput {
  readonly front: AzureFrontConfig;
  readonly regions: readonly RegionConfig[];
  /** health.path: the probe's path when probe.path is not set. */
  readonly healthPath: string;
  /** cutover.yaml's path, for the error. */
  readonly file: string;
}

export function renderTrafficManager(input: RenderTrafficManagerInput): RenderedTrafficManager {
  const { front, regions } = input;
  const problems: string[] = [];
  const target = probeTarget(regions, problems);
  const endpoints = regions.map((region, i) => endpointOf(region, i));
  if (front.routing === "priority") problems.push(...priorityClashes(endpoints));
  if (problems.length > 0 || target === null) throw new ConfigError(input.file, problems);
  const { monitorConfig, notes } = monitorConfigFor(front, input.healthPath, target);
  const profile: ArmProfile = {
    type: PROFILE_TYPE,
    apiVersion: TRAFFIC_MANAGER_API_VERSION,
    name: front.profile,
    location: "global",
    properties: {
      profileStatus: "Enabled",
      trafficRoutingMethod: front.routing === "priority" ? "Priority" : "Weighted",
      dnsConfig: { relativeName: front.profile.toLowerCase(), ttl: front.dnsTtl },
      monitorConfig,
      endpoints,
    },
  };
  const template: ArmTemplate = {
    $schema: TEMPLATE_SCHEMA,
    contentVersion: "1.0.0.0",
    metadata: { _generator: { name: "cutover" }, notes },
    resources: [profile],
  };
  return { template, notes };
}

function endpointOf(region: RegionConfig, index: number): ArmEndpoint {
  const url = region.endpoint === undefined ? null : new URL(region.endpoint);
  return {
    name: region.name,
    type: EXTERNAL_ENDPOINT_TYPE,
    properties: {
      target: url === null ? "" : url.hostname.replace(/^\[|\]$/g, ""),
      endpointStatus: "Enabled",
      // Both are rendered whatever the routing, so switching `routing:` later needs no other change.
      priority: region.priority ?? index + 1,
      weight: region.weight,
      endpointLocation: region.name,
    },
  };
}

/** The one protocol and port every region's endpoint shares (a profile probes all endpoints alike). */
function probeTarget(regions: readonly RegionConfig[], problems: string[]): ProbeTarget | null {
  const targets = new Map<string, string[]>();
  for (const region of regions) {
    if (region.endpoint === undefined) {
      problems.push(
        `regions: "${region.name}" has no endpoint; set regions[].endpoint to where it serves its users`,
      );
      continue;
    }
    const url = new URL(region.endpoint);
    const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
    const key = `${url.protocol === "https:" ? "HTTPS" : "HTTP"}:${port}`;
    targets.set(key, [...(targets.get(key) ?? []), region.name]);
  }
  if (targets.size > 1) {
    const seen = [...targets].map(([key, names]) => `${key} (${names.join(", ")})`).join(", ");
    problems.push(
      `regions[].endpoint: Traffic Manager probes every endpoint of a profile with one protocol and port, but these use ${seen}; serve every region on the same scheme and port`,
    );
    return null;
  }
  const [only] = [...targets.keys()];
  if (only === undefined) return null;
  const [protocol, port] = only.split(":") as ["HTTP" | "HTTPS", string];
  return { protocol, port: Number(port) };
}

/** Priority routing: "no two endpoints can share the same priority value" (REST reference, Endpoint). */
function priorityClashes(endpoints: readonly ArmEndpoint[]): string[] {
  const byPriority = new Map<number, string[]>();
  for (const e of endpoints) {
    const p = e.properties.priority ?? 0;
    byPriority.set(p, [...(byPriority.get(p) ?? []), e.name]);
  }
  return [...byPriority]
    .filter(([, names]) => names.length > 1)
    .map(
      ([p, names]) =>
        `regions: ${names.map((n) => `"${n}"`).join(" and ")} have priority ${p}; Traffic Manager needs a different priority for each (a region without one gets its place in the list)`,
    );
}
