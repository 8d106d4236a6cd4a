import type { MonitorConfig } from "@azure/arm-trafficmanager";
import type { AzureFrontConfig } from "../../config/fleet-schema.js";

/*
 * cutover's probe settings said in Traffic Manager's words. Traffic Manager allows less than cutover's own
 * front (learn.microsoft.com, azure/traffic-manager/traffic-manager-monitoring, "Configure endpoint
 * monitoring"): it probes every 30 s (normal) or 10 s (fast probing); the timeout is 5 to 10 s at 30 s
 * probing and 5 to 9 s at 10 s; it tolerates 0 to 9 failures and marks the endpoint Degraded on the next
 * one; a single success brings it back. Each value that had to move is said in a note.
 */

/** Where the probe goes: from the regions' endpoint URLs (a profile has one monitorConfig for all). */
export interface ProbeTarget {
  readonly protocol: "HTTP" | "HTTPS";
  readonly port: number;
}

export interface RenderedMonitor {
  readonly monitorConfig: MonitorConfig;
  readonly notes: readonly string[];
}

const FAST_INTERVAL_S = 10;
const NORMAL_INTERVAL_S = 30;

export function monitorConfigFor(
  front: AzureFrontConfig,
  healthPath: string,
  target: ProbeTarget,
): RenderedMonitor {
  const notes: string[] = [];
  const { probe } = front;
  const intervalInSeconds = probe.interval <= FAST_INTERVAL_S * 1000 ? FAST_INTERVAL_S : NORMAL_INTERVAL_S;
  if (probe.interval !== intervalInSeconds * 1000)
    notes.push(
      `probe.interval ${seconds(probe.interval)}: Traffic Manager probes every 10 s or 30 s only; rendered intervalInSeconds ${intervalInSeconds}${intervalInSeconds === FAST_INTERVAL_S ? " (fast probing, billed extra)" : ""}`,
    );
  const maxTimeout = intervalInSeconds === FAST_INTERVAL_S ? 9 : 10;
  const wanted = Math.ceil(probe.timeout / 1000);
  const timeoutInSeconds = Math.min(maxTimeout, Math.max(5, wanted));
  if (timeoutInSeconds * 1000 !== probe.timeout)
    notes.push(
      `probe.timeout ${seconds(probe.timeout)}: at ${intervalInSeconds} s probing Traffic Manager takes a timeout of 5 to ${maxTimeout} s; rendered timeoutInSeconds ${timeoutInSeconds}`,
    );
  if (probe.successThreshold > 1)
    notes.push(
      `probe.successThreshold ${probe.successThreshold}: Traffic Manager brings an endpoint back after one passing probe; it has no setting for more`,
    );
  return {
    monitorConfig: {
      protocol: target.protocol,
      port: target.port,
      path: probe.path ?? healthPath,
      intervalInSeconds,
      timeoutInSeconds,
      // failureThreshold failures mark a region unhealthy; Traffic Manager tolerates N and degrades on N + 1.
      toleratedNumberOfFailures: probe.failureThreshold - 1,
      // Any 2xx is healthy (Traffic Manager's default is 200 alone). cutover's own front also passes a 3xx;
      // here a redirect stays a failure, as it is by default: from a health path it is usually a login page.
      expectedStatusCodeRanges: [{ min: 200, max: 299 }],
    },
    notes,
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
