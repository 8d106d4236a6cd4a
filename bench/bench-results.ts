import type { BenchTarget, ProxyName, TargetName } from "./bench-target.js";
import type { MachineInfo } from "./machine-info.js";
import type { RssSoak } from "./rss-soak.js";
import type { SwitchDrillResult } from "./switch-drill.js";
import type { WrkResult } from "./wrk-runner.js";

export interface BenchSettings {
  readonly connections: number;
  readonly wrkThreads: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly switchConnections: number;
  readonly switchRounds: number;
  readonly switchBeforeMs: number;
  readonly switchAfterMs: number;
  /** Requests of the memory soak of the built-in router after its warm-up; 0 for none. */
  readonly soakRequests: number;
  /** The soak stops after this long even short of soakRequests. */
  readonly soakMaxSeconds: number;
}

/** The targets of the several-cores section: "cutover-2w" and "nginx-2w" for router.workers: 2. */
export type WorkersTargetName = `cutover-${number}w` | `nginx-${number}w`;

/** A target under a name of its own (the main table's are BenchTarget). */
export type NamedTarget<N extends string> = Omit<BenchTarget, "name"> & { readonly name: N };

/** A target of the several-cores section: several processes, stopped once the section is done. */
export type WorkersTarget = NamedTarget<WorkersTargetName> & {
  /** Stops every process of the target. */
  stop(): Promise<void>;
};

/** One wrk run through one target, with the CPU and memory its processes used meanwhile. */
export interface ThroughputRound<N extends string = TargetName> extends WrkResult {
  readonly target: N;
  readonly round: number;
  readonly cpuSeconds: number;
  readonly cpuUsPerRequest: number;
  readonly peakRssMiB: number;
}

/** Medians of a target's rounds (errors summed). */
export interface ThroughputSummary<N extends string = TargetName> {
  readonly target: N;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuUsPerRequest: number;
  readonly peakRssMiB: number;
  readonly errors: number;
}

export interface SwitchRound<P extends string = ProxyName> extends SwitchDrillResult {
  readonly proxy: P;
  readonly round: number;
  /**
   * cutover only: when the router process said the pointer moved (with router.workers > 1: that every
   * worker had switched), ms after the command was written.
   */
  readonly appliedMs: number | null;
}

export interface SwitchSummary<P extends string = ProxyName> {
  readonly proxy: P;
  readonly switches: number;
  /** Failed requests over all switches of this proxy. */
  readonly errors: number;
  readonly errorsPerSwitch: readonly number[];
  readonly commandMs: number;
  readonly appliedMs: number | null;
  readonly firstNewMs: number | null;
  readonly lastOldMs: number | null;
  readonly oldAfterFirstNew: number;
}

export interface BenchResults {
  readonly at: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  readonly targets: ReadonlyArray<Pick<BenchTarget, "name" | "label" | "switchMethod">>;
  readonly throughput: {
    readonly rounds: readonly ThroughputRound[];
    readonly summary: readonly ThroughputSummary[];
  };
  readonly switches: { readonly rounds: readonly SwitchRound[]; readonly summary: readonly SwitchSummary[] };
  /** The built-in router's memory over soakRequests requests; null when not measured. */
  readonly rssSoak?: RssSoak | null;
  /** router.workers > 1 against nginx with as many workers; null when not measured. */
  readonly severalCores?: SeveralCores | null;
}

export interface SeveralCoresSettings {
  /** router.workers of cutover, worker_processes of nginx. */
  readonly workers: number;
  readonly connections: number;
  readonly wrkThreads: number;
  readonly seconds: number;
  readonly rounds: number;
  /** Switches of the cutover target under load, alternating blue -> green and back. */
  readonly switches: number;
  readonly switchBeforeMs: number;
  readonly switchAfterMs: number;
}

/** Several processes per proxy: cutover with router.workers: N against nginx with N workers, and N-worker switches. */
export interface SeveralCores {
  readonly settings: SeveralCoresSettings;
  readonly targets: ReadonlyArray<Pick<WorkersTarget, "name" | "label" | "switchMethod">>;
  readonly throughput: {
    readonly rounds: ReadonlyArray<ThroughputRound<WorkersTargetName>>;
    readonly summary: ReadonlyArray<ThroughputSummary<WorkersTargetName>>;
  };
  /** The cutover target's switches. */
  readonly switches: {
    readonly rounds: ReadonlyArray<SwitchRound<WorkersTargetName>>;
    readonly summary: SwitchSummary<WorkersTargetName>;
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const medianOrNull = (values: ReadonlyArray<number | null>): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : median(known);
};

export function summariseThroughput<N extends string>(
  rounds: ReadonlyArray<ThroughputRound<N>>,
  target: N,
): ThroughputSummary<N> {
  const mine = rounds.filter((round) => round.target === target);
  const of = (pick: (round: ThroughputRound<N>) => number) => median(mine.map(pick));
  return {
    target,
    rps: of((r) => r.rps),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    maxMs: of((r) => r.maxMs),
    cpuUsPerRequest: of((r) => r.cpuUsPerRequest),
    peakRssMiB: of((r) => r.peakRssMiB),
    errors: mine.reduce((sum, r) => sum + r.errors, 0),
  };
}

export function summariseSwitches<P extends string>(
  rounds: ReadonlyArray<SwitchRound<P>>,
  proxy: P,
): SwitchSummary<P> {
  const mine = rounds.filter((round) => round.proxy === proxy);
  return {
    proxy,
    switches: mine.length,
    errors: mine.reduce((sum, r) => sum + r.errors, 0),
    errorsPerSwitch: mine.map((r) => r.errors),
    commandMs: median(mine.map((r) => r.commandMs)),
    appliedMs: medianOrNull(mine.map((r) => r.appliedMs)),
    firstNewMs: medianOrNull(mine.map((r) => r.firstNewMs)),
    lastOldMs: medianOrNull(mine.map((r) => r.lastOldMs)),
    oldAfterFirstNew: mine.reduce((sum, r) => sum + r.oldAfterFirstNew, 0),
  };
}
