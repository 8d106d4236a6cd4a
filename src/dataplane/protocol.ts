import type { Colour } from "../colour.js";
import type { Address } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import type { HoldState } from "../engine/ports/traffic-router.js";
import type { ProcessExit } from "../process/guarded-process.js";
import type { LogRotation } from "../process/rotating-log.js";

/*
 * What the daemon and the data plane process say to each other over the control socket (JSON-RPC,
 * vscode-jsonrpc's framing). The data plane process holds the router (or drives HAProxy) and the replicas'
 * guards, so that traffic goes on while the daemon crashes, restarts or is upgraded; the daemon attaches,
 * drives it, and leaves. A daemon of another cutover version may attach: a change here that an older data
 * plane process would not understand bumps PROTOCOL.
 */
export const PROTOCOL = 1;

export const DATAPLANE_FILE = "dataplane.json";
export const DATAPLANE_SOCKET = "dataplane.sock";
export const DATAPLANE_LOG = "dataplane.log";

/** What the data plane process writes to .cutover/dataplane.json once it serves, and answers to `hello`. */
export interface DataPlaneInfo {
  readonly protocol: number;
  readonly pid: number;
  /** Random, made at start: a process that answers with another one is not the one the file names. */
  readonly nonce: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly startedAt: string;
  /** The cutover that started it (package version and install folder). */
  readonly build: string;
  /** `builtin` or `haproxy`. */
  readonly kind: string;
  readonly listen: Address;
  readonly preview: Address | null;
  readonly metricsContentType: string;
  /** A hash of the `router:` settings it serves (older data plane processes do not write it). */
  readonly routerSettings?: string;
}

/** The router's state, as the daemon mirrors it for the synchronous parts of TrafficRouter. */
export interface RouterSnapshot {
  readonly active: Colour;
  readonly inFlight: Readonly<Record<Colour, number>>;
  readonly hold: HoldState | null;
  /** Ids of the replicas in rotation, by colour. */
  readonly endpoints: Readonly<Record<Colour, readonly string[]>>;
}

/** A replica's run as the data plane process keeps it. */
export interface RunInfo {
  readonly key: string;
  readonly labels: Readonly<Record<string, string | number>>;
  /** The service's pid, once its guard reported it. */
  readonly pid: number | null;
  /** How it ended, while no daemon has taken note (`runs.forget`). */
  readonly exit: ProcessExit | null;
}

/** `runs.start`: a GuardedProcess's options without the callback. */
export interface RunStart {
  readonly key: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly logFile: string;
  readonly logRotation?: LogRotation | undefined;
  readonly stopGraceMs: number;
}

export interface SetEndpoints {
  readonly colour: Colour;
  readonly endpoints: readonly Endpoint[];
}

/** Method names, so that a typo is a type error. */
export const M = {
  hello: "hello",
  attach: "attach",
  shutdown: "shutdown",
  setEndpoints: "router/setEndpoints",
  switchTo: "router/switchTo",
  drain: "router/drain",
  settled: "router/settled",
  snapshot: "router/snapshot",
  metrics: "router/metrics",
  setMirror: "router/setMirror",
  hold: "hold/hold",
  release: "hold/release",
  quiet: "hold/quiet",
  runStart: "runs/start",
  runTerminate: "runs/terminate",
  runList: "runs/list",
  runForget: "runs/forget",
  /** Notifications from the data plane process. */
  runPid: "runs/pid",
  runExit: "runs/exit",
  holdReleased: "hold/released",
} as const;
