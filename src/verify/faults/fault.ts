import type { AdminApiDriver } from "../admin-api-driver.js";
import type { LoadGenerator, LoadSample } from "../load-generator.js";

/** The faults the drill can inject into a running local cutover. */
export const FAULT_NAMES = [
  "kill-replica",
  "unhealthy-new",
  "slow-start",
  "errors-after-switch",
  "long-request",
  "websocket",
  "daemon-restart",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** What a fault needs from the cutover under test. */
export interface FaultTarget {
  readonly driver: AdminApiDriver;
  /** The router's listen address, e.g. http://127.0.0.1:8080. */
  readonly listenUrl: string;
  readonly replicas: number;
  readonly drainTimeoutMs: number;
  readonly readyTimeoutMs: number;
  /** Whether cutover.yaml has an analysis: section (post-switch analysis can roll a bad version back). */
  readonly analysisConfigured: boolean;
  /** kill -9 of the daemon; resolves with its pid once it is gone. */
  killDaemon(): Promise<number>;
  /** `cutover up`: resolves once the daemon serves again. */
  restartDaemon(): Promise<void>;
}

export interface FaultSettings {
  /** A version of the service whose health check fails. */
  readonly unhealthyVersion?: string;
  /** A version that takes a while to become healthy. */
  readonly slowVersion?: string;
  /** A version that answers with errors. */
  readonly erroringVersion?: string;
  readonly longRequestMs: number;
  /** Path of a request that takes {ms} milliseconds, e.g. /slow?ms={ms}. */
  readonly longRequestPath: string;
  readonly websocketPath: string;
}

export interface FaultContext {
  readonly target: FaultTarget;
  readonly settings: FaultSettings;
  /** A new load generator on the target, not started. */
  readonly load: () => LoadGenerator;
  readonly log: (line: string) => void;
}

export interface FaultRequests {
  readonly sent: number;
  readonly failed: number;
  readonly failuresByKind: Readonly<Record<string, number>>;
  readonly maxLatencyMs: number;
}

/** For each fault: what was expected, what happened, and whether that was it. */
export interface FaultResult {
  readonly fault: FaultName;
  readonly expected: string;
  readonly happened: string;
  readonly passed: boolean;
  readonly durationMs: number;
  readonly requests: FaultRequests;
  /** The numbers behind `happened` (durations in ms). */
  readonly figures: Readonly<Record<string, number | string | boolean | null>>;
}

/** What a fault's run returns; the runner adds the name, duration and request counts. */
export interface FaultVerdict {
  readonly expected: string;
  readonly happened: string;
  readonly passed: boolean;
  readonly samples: readonly LoadSample[];
  readonly figures: Readonly<Record<string, number | string | boolean | null>>;
}

export interface Fault {
  readonly name: FaultName;
  /** The FaultSettings field that must be set (a version of the service that misbehaves), if any. */
  readonly needs?: "unhealthyVersion" | "slowVersion" | "erroringVersion";
  run(context: FaultContext): Promise<FaultVerdict>;
}
