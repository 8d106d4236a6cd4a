import cluster, { type Worker } from "node:cluster";
import type { Level, Logger } from "pino";
import { AggregatorRegistry, Registry } from "prom-client";
import type { Colour } from "../colour.js";
import type { LoadedConfig } from "../config/load.js";
import type { Address } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import type { DrainResult, SwitchResult } from "../engine/ports/traffic-router.js";
import { CutoverError, ERRORS, type ErrorCode } from "../errors.js";
import { compiledWorker } from "../worker-path.js";
import type { DataPlane } from "./data-plane.js";
import type { MirrorOptions } from "./mirror.js";
import { RouterNotListeningError } from "./router.js";
import {
  type FromWorker,
  type ToWorker,
  WORKER_ENV,
  type WorkerCall,
  type WorkerSnapshot,
  type WorkerState,
} from "./router-worker-protocol.js";
import { WorkersHold } from "./workers-hold.js";

export interface RouterWorkersOptions {
  /** cutover.yaml, as each worker builds its router from it (router.workers is this class's business). */
  readonly loaded: LoadedConfig;
  /** Router processes to run, at least 2. */
  readonly workers: number;
  readonly logger: Logger;
}

/** What a call to a worker that died before answering resolves with. */
const GONE: unique symbol = Symbol("gone");

/** A worker that lived less than this before it died is started again after RESTART_DELAY_MS, not at once. */
const CRASH_LOOP_MS = 5_000;
const RESTART_DELAY_MS = 1_000;
/** Time a worker has to close its connections and exit when asked; then it is killed. */
const CLOSE_TIMEOUT_MS = 10_000;

/** Where a worker listens, once it does. */
interface Listening {
  readonly listen: Address;
  readonly preview: Address | null;
}

/** One router process and what this side knows of it. */
interface RouterWorker {
  /** 1..N; a replacement takes the number of the worker it replaces. */
  readonly number: number;
  readonly process: Worker;
  readonly forkedAt: number;
  /** `init` was sent: it gets every change from now on. */
  initialised: boolean;
  exited: boolean;
  readonly pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
  snapshot: WorkerSnapshot;
  /** Its metrics at the last scrape: its counters are kept once it has died. */
  metrics: object[] | null;
  readonly ready: Promise<Listening>;
  readonly settle: { resolve(value: Listening): void; reject(error: Error): void };
}

const EMPTY: WorkerSnapshot = { inFlight: { blue: 0, green: 0 }, held: 0, mirrorInFlight: 0 };

/**
 * The built-in router in `router.workers` processes (node:cluster workers of the data plane process),
 * which share its listeners: this process accepts each connection and hands it to the next worker in turn
 * (node:cluster's round-robin), so a worker's share is counted in connections, not requests. It keeps what
 * they must agree on (the active colour, the replicas in rotation, mirroring, a hold) and sends each change
 * to every worker; a switch returns once every worker has switched, so a request sent after it returned
 * reaches the new colour whichever worker takes it. A worker that dies is started again with the state as
 * it is then; its requests in flight die with it, as they would with a one-process router.
 */
export class RouterWorkers implements DataPlane {
  readonly requestHold: WorkersHold;
  readonly metricsContentType = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly #o: RouterWorkersOptions;
  readonly #log: Logger;
  readonly #workers = new Map<number, RouterWorker>();
  #active: Colour = "blue";
  readonly #endpoints: Record<Colour, readonly Endpoint[]> = { blue: [], green: [] };
  #mirror: MirrorOptions | null = null;
  /** Counters and histograms of workers that died, as last scraped, so that the totals never go back. */
  readonly #retired: object[][] = [];
  #addresses: Listening | null = null;
  #nextCall = 1;
  #started = false;
  #closing: Promise<void> | null = null;

  constructor(options: RouterWorkersOptions) {
    if (options.workers < 2) throw new RangeError("RouterWorkers runs 2 router processes or more");
    this.#o = options;
    this.#log = options.logger.child({ component: "router-workers" });
    this.requestHold = new WorkersHold(this);
  }

  get active(): Colour {
    return this.#active;
  }

  /** The router processes' pids, in worker order. */
  get pids(): number[] {
    return [...this.#workers.values()].flatMap((w) => (w.process.process.pid ? [w.process.process.pid] : []));
  }

  /** Forks the workers; resolves once every one listens, or closes them all and throws the first failure. */
  async start(): Promise<void> {
    cluster.setupPrimary({
      exec: compiledWorker(import.meta.url, "router/router-worker-main.js"),
      args: [],
      execArgv: [],
      silent: false,
    });
    for (let n = 1; n <= this.#o.workers; n++) this.#fork(n);
    try {
      await Promise.all([...this.#workers.values()].map((w) => w.ready));
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#started = true;
    this.#log.info(
      { event: "listening", workers: this.#o.workers, pids: this.pids, ...this.#addresses },
      `router listening in ${this.#o.workers} processes`,
    );
  }

  /** Asks every worker to close its listeners and connections, waits for them to exit (killing a late one). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.requestHold.stop();
      await Promise.all(
        [...this.#workers.values()].map(async (w) => {
          const kill = setTimeout(() => w.process.process.kill("SIGKILL"), CLOSE_TIMEOUT_MS);
          const exited = new Promise<void>((resolve) => {
            if (w.exited) resolve();
            else w.process.once("exit", () => resolve());
          });
          if (w.initialised) void this.#call(w, { method: "close" }).catch(() => {});
          else w.process.process.kill("SIGTERM");
          await exited;
          clearTimeout(kill);
        }),
      );
    })();
    return this.#closing;
  }

  address(): Address {
    if (this.#addresses === null) throw new RouterNotListeningError();
    return this.#addresses.listen;
  }

  previewAddress(): Address | null {
    if (this.#addresses === null) throw new RouterNotListeningError();
    return this.#addresses.preview;
  }

  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void {
    this.#endpoints[colour] = [...endpoints];
    this.#tell({ t: "setEndpoints", colour, endpoints });
  }

  inRotation(colour: Colour): readonly string[] {
    return this.#endpoints[colour].map((endpoint) => endpoint.id);
  }

  /** Moves every worker to `colour`; resolves once each has (a worker started meanwhile starts on it). */
  async switchTo(colour: Colour): Promise<SwitchResult> {
    const from = this.#active;
    this.#active = colour;
    await this.callAll({ method: "switchTo", colour });
    if (from !== colour)
      this.#log.info({ event: "switch", from, to: colour }, `switched ${from} -> ${colour} in every worker`);
    return { from, to: colour, at: Date.now() };
  }

  async drain(colour: Colour, timeoutMs: number): Promise<DrainResult> {
    const results = await this.callAll<DrainResult>({ method: "drain", colour, timeoutMs });
    return {
      completed: results.reduce((sum, r) => sum + r.completed, 0),
      cancelled: results.reduce((sum, r) => sum + r.cancelled, 0),
    };
  }

  /** As of the last refresh(). */
  inFlight(colour: Colour): number {
    return this.#sum((snapshot) => snapshot.inFlight[colour]);
  }

  /** Copies mirrored and not yet answered, over every worker, as of the last refresh(). */
  mirrorInFlight(): number {
    return this.#sum((snapshot) => snapshot.mirrorInFlight);
  }

  /** Requests held now, over every worker, as of the last refresh(). */
  held(): number {
    return this.#sum((snapshot) => snapshot.held);
  }

  /** Asks every worker for its requests in flight and held. */
  async refresh(): Promise<void> {
    await Promise.all(
      [...this.#workers.values()].map(async (w) => {
        if (!w.initialised) return;
        const snapshot = await this.#call<WorkerSnapshot>(w, { method: "snapshot" }).catch(
          (): typeof GONE => GONE,
        );
        if (snapshot !== GONE) w.snapshot = snapshot;
      }),
    );
  }

  /** Every worker's metrics added up (counters, histograms, in flight), plus the counts of workers that died. */
  async metrics(): Promise<string> {
    const live = await Promise.all(
      [...this.#workers.values()].map(async (w) => {
        if (!w.initialised) return null;
        const json = await this.#call<object[]>(w, { method: "metrics" }).catch((): typeof GONE => GONE);
        if (json === GONE) return null;
        w.metrics = json;
        return json;
      }),
    );
    // The dead workers' counts, added up into one set, so that a worker dying again and again costs no memory.
    if (this.#retired.length > 1)
      this.#retired.splice(0, Infinity, await AggregatorRegistry.aggregate(this.#retired).getMetricsAsJSON());
    const all = [...live.filter((json): json is object[] => json !== null), ...this.#retired];
    return AggregatorRegistry.aggregate(all).metrics();
  }

  /** Mirrors from every worker; each takes its share of `maxPerSecond`, so that together they keep to it. */
  setMirror(options: MirrorOptions | null): void {
    this.#mirror = options;
    this.#tell({ t: "setMirror", options: this.#mirrorShare() });
  }

  /** What a worker started now must be told. */
  #stateForNewWorker(): WorkerState {
    return {
      active: this.#active,
      endpoints: this.#endpoints,
      mirror: this.#mirrorShare(),
      hold: this.requestHold.stateForNewWorker(),
    };
  }

  #sum(pick: (snapshot: WorkerSnapshot) => number): number {
    let sum = 0;
    for (const w of this.#workers.values()) sum += pick(w.snapshot);
    return sum;
  }

  #mirrorShare(): MirrorOptions | null {
    const m = this.#mirror;
    if (m === null || m.maxPerSecond === undefined) return m;
    return { ...m, maxPerSecond: m.maxPerSecond / this.#o.workers };
  }

  #tell(message: ToWorker): void {
    for (const w of this.#workers.values()) if (w.initialised && !w.exited) send(w, message);
  }

  /** Sends `call` to every worker that has its state; resolves with the answers of those that did not die. */
  async callAll<T>(call: WorkerCall): Promise<T[]> {
    const workers = [...this.#workers.values()].filter((w) => w.initialised && !w.exited);
    const answers: T[] = [];
    for (const answer of await Promise.all(workers.map((w) => this.#call<T>(w, call))))
      if (answer !== GONE) answers.push(answer);
    return answers;
  }

  /** One call to one worker; resolves with GONE if the worker exits first. */
  #call<T>(w: RouterWorker, call: WorkerCall): Promise<T | typeof GONE> {
    const id = this.#nextCall++;
    return new Promise<T | typeof GONE>((resolve, reject) => {
      w.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      send(w, { t: "call", id, call });
    });
  }

  #fork(number: number): void {
    const process = cluster.fork({ [WORKER_ENV]: String(number) });
    let settle!: RouterWorker["settle"];
    const ready = new Promise<Listening>((resolve, reject) => {
      settle = { resolve, reject };
    });
    ready.catch(() => {}); // a failure is read by start(), or logged by #exited for a replacement
    const w: RouterWorker = {
      number,
      process,
      forkedAt: Date.now(),
      initialised: false,
      exited: false,
      pending: new Map(),
      snapshot: EMPTY,
      metrics: null,
      ready,
      settle,
    };
    this.#workers.set(number, w);
    process.on("message", (message: FromWorker) => this.#received(w, message));
    process.on("exit", (code: number | null, signal: NodeJS.Signals | null) => this.#exited(w, code, signal));
    process.on("error", () => {}); // a send to a worker that is exiting; its exit is what counts
  }

  #received(w: RouterWorker, message: FromWorker): void {
    switch (message.t) {
      case "up":
        w.initialised = true;
        send(w, { t: "init", worker: w.number, loaded: this.#o.loaded, state: this.#stateForNewWorker() });
        return;
      case "ready":
        this.#addresses ??= { listen: message.listen, preview: message.preview };
        if (this.#started)
          this.#log.info({ worker: w.number, pid: w.process.process.pid }, "router worker serving");
        w.settle.resolve({ listen: message.listen, preview: message.preview });
        return;
      case "failed":
        w.settle.reject(workerError(message.code, message.message));
        return;
      case "reply": {
        const pending = w.pending.get(message.id);
        w.pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(workerError(message.code, message.message));
        return;
      }
      case "log":
        this.#relog(message.line);
        return;
    }
  }

  #exited(w: RouterWorker, code: number | null, signal: NodeJS.Signals | null): void {
    w.exited = true;
    for (const pending of w.pending.values()) pending.resolve(GONE);
    w.pending.clear();
    w.settle.reject(
      new CutoverError(
        "ROUTER_WORKER_FAILED",
        `router worker ${w.number} exited before it listened (${signal ?? `code ${code}`}); its errors are in the data plane's log`,
      ),
    );
    if (this.#workers.get(w.number) === w) this.#workers.delete(w.number);
    if (w.metrics !== null) this.#retired.push(w.metrics.filter(isCount));
    if (this.#closing !== null || !this.#started) return;
    const lived = Date.now() - w.forkedAt;
    const delay = lived < CRASH_LOOP_MS ? RESTART_DELAY_MS : 0;
    this.#log.error(
      {
        event: "worker-exit",
        worker: w.number,
        pid: w.process.process.pid,
        code,
        signal,
        restartInMs: delay,
      },
      `router worker ${w.number} exited (${signal ?? `code ${code}`}); its requests in flight were lost; starting another`,
    );
    const restart = setTimeout(() => {
      if (this.#closing === null) this.#fork(w.number);
    }, delay);
    restart.unref();
  }

  /** A worker's log line, into this process's log (the worker's number is in it already). */
  #relog(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a JSON line: nothing of the router's
    }
    const { level, time: _time, pid, hostname: _host, msg, ...fields } = record;
    const label =
      typeof level === "number" ? (this.#log.levels.labels[level] as Level | undefined) : undefined;
    this.#log[label ?? "info"]({ ...fields, pid }, typeof msg === "string" ? msg : "");
  }
}

function send(w: RouterWorker, message: ToWorker): void {
  if (!w.exited && w.process.isConnected()) w.process.send(message);
}

/** A worker's error as this process throws it: the same code (a ListenError stays ROUTER_LISTEN_FAILED). */
function workerError(code: string, message: string): CutoverError {
  return new CutoverError(code in ERRORS ? (code as ErrorCode) : "ROUTER_WORKER_FAILED", message);
}

/** The metrics that add up over time (not gauges): what a dead worker leaves behind. */
function isCount(metric: object): boolean {
  const type = (metric as { type?: unknown }).type;
  return type === "counter" || type === "histogram";
}
