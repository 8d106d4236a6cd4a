/*
 * The port a fleet deploy drives the global layer through (issue 13): the layer in front of the regions that
 * sends each user to one of them (cutover's own front, or Azure Traffic Manager). The fleet runner takes a
 * region out before it deploys (drainDuringDeploy) and puts it back after its bake, and after a halt.
 */

/** What the front knows of one region. */
export interface FrontRegionState {
  readonly region: string;
  /** Taken in (true) or out (false) by the runner or a person. */
  readonly enabled: boolean;
  /** The front's probe: true healthy, false failing, null not known yet (or not probed while disabled). */
  readonly healthy: boolean | null;
  readonly priority: number;
  readonly weight: number;
  /** The front's own word for the region's state (e.g. Traffic Manager's endpointMonitorStatus). */
  readonly detail?: string;
}

export interface GlobalFront {
  /** "builtin" or "azure-traffic-manager", for logs and the record. */
  readonly kind: string;
  /** Stops sending new users to `region`; resolves once the front confirms it no longer does. */
  drain(region: string, signal?: AbortSignal): Promise<void>;
  /** Sends users to `region` again; resolves once the front has it enabled and sees it healthy. */
  restore(region: string, signal?: AbortSignal): Promise<void>;
  status(signal?: AbortSignal): Promise<readonly FrontRegionState[]>;
  close(): Promise<void>;
}
