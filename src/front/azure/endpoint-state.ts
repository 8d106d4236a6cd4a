import type { Endpoint } from "@azure/arm-trafficmanager";
import type { FrontRegionState } from "../global-front.js";

/*
 * A Traffic Manager endpoint as the fleet runner sees a region. endpointMonitorStatus (REST reference,
 * EndpointMonitorStatus; learn.microsoft.com traffic-manager-monitoring, "Endpoint monitor status"):
 * Online is probed and healthy, Degraded is probed and failing; CheckingEndpoint has no probe result yet,
 * and Disabled, Inactive, Stopped and Unmonitored are not probed at all, so their health is not known.
 */

export function regionStateOf(endpoint: Endpoint): FrontRegionState {
  const detail = endpoint.endpointMonitorStatus;
  return {
    region: endpoint.name ?? "",
    enabled: endpoint.endpointStatus === "Enabled",
    healthy: healthOf(detail),
    priority: endpoint.priority ?? 0,
    weight: endpoint.weight ?? 0,
    ...(detail === undefined ? {} : { detail }),
  };
}

export function healthOf(monitorStatus: string | undefined): boolean | null {
  if (monitorStatus === "Online") return true;
  if (monitorStatus === "Degraded") return false;
  return null;
}
