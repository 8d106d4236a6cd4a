import type { MetricSource } from "../analysis/metric-source.js";
import type { ControlPlane } from "../control/control-plane.js";

/**
 * One region of a fleet, as the runner sees it: the control plane of the region's own cutover (its daemon's
 * admin API, or an engine in this process over a Kubernetes cluster) and where its per-colour metrics are
 * read for the fleet's judge.
 */
export interface Region {
  readonly name: string;
  readonly control: ControlPlane;
  readonly metrics: MetricSource;
  /** Where it is reached, for messages: an admin URL or a kubeconfig context. */
  readonly where: string;
}
