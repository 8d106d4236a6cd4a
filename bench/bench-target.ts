import type { Colour } from "../src/colour.js";

export const TARGET_NAMES = [
  "direct",
  "node-floor",
  "cutover",
  "nginx",
  "haproxy",
  "cutover-tls",
  "nginx-tls",
] as const;
/** The HTTPS targets: measured for throughput (against each other), not switched. */
export const TLS_TARGETS = ["cutover-tls", "nginx-tls"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
export const PROXY_NAMES = ["cutover", "nginx", "haproxy"] as const;
export type ProxyName = (typeof PROXY_NAMES)[number];

/** One thing the load goes through: a proxy in front of the demo app, or the demo app itself. */
export interface BenchTarget {
  readonly name: TargetName;
  /** What it is, for the report: "nginx 1.22.1, 1 worker". */
  readonly label: string;
  readonly url: string;
  /** The processes whose CPU time and memory are counted (the proxy's; for direct, the demo app's). */
  pids(): number[];
  /** Moves traffic to `colour`'s upstream the way this proxy does it; null for direct. */
  readonly switchTo: ((colour: Colour) => Promise<void>) | null;
  /** How it switches, for the report. */
  readonly switchMethod: string;
}
