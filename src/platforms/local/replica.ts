import { appendFileSync } from "node:fs";
import type { Agent } from "node:http";
import type { Logger } from "pino";
import type { Colour } from "../../colour.js";
import type { HealthConfig, RouterConfig, StartConfig } from "../../config/schema.js";
import type { Endpoint, ReplicaState, ReplicaStatus } from "../../engine/ports/platform.js";
import { Backoff } from "../../process/backoff.js";
import { freePort } from "../../process/free-port.js";
import { describeExit, type ProcessExit } from "../../process/guarded-process.js";
import { guardedRunner, type ProcessRun, type ProcessRunner } from "../../process/process-runner.js";
import { DEFAULT_LOG_ROTATION, type LogRotation } from "../../process/rotating-log.js";
import { redactSecrets } from "../../secrets.js";
import { HealthChecker, type HealthListener } from "./health-checker.js";
import { replicaLaunch } from "./replica-launch.js";

export interface ReplicaOptions {
  readonly colour: Colour;
  readonly index: number;
  readonly version: string;
  /**
   * Added to the environment by the platform (e.g. the colour's database connection); null while not known
   * (a replica adopted from an earlier daemon: its restarts wait for useEnv()).
   */
  readonly env: Readonly<Record<string, string>> | null;
  readonly start: StartConfig;
  readonly health: HealthConfig;
  /** What the replica speaks (router.upstreamProtocol): its health checks use it; default http1. */
  readonly upstreamProtocol?: RouterConfig["upstreamProtocol"] | undefined;
  /** start.cwd, resolved. */
  readonly cwd: string;
  readonly logFile: string;
  /** logFile is rotated past this size (the guard writes the service's output); default 10 MiB, 5 kept. */
  readonly logRotation?: LogRotation | undefined;
  /** The platform's connections to its replicas' health endpoints, kept between checks. */
  readonly agent: Agent;
  readonly logger: Logger;
  /** Ports the other replicas use, so that no two pick the same one. */
  readonly takenPorts: () => ReadonlySet<number>;
  /** Called after every change of status. */
  readonly onChange: () => void;
  /** Where the runs are started; default: guards that are children of this process. */
  readonly runner?: ProcessRunner | undefined;
}

/** A run the data plane process kept while no daemon was attached, as the next daemon finds it. */
export interface AdoptedRun {
  readonly run: ProcessRun;
  readonly port: number;
  /** Whether the router still had it in rotation. */
  readonly inRotation: boolean;
  /** Runs of this replica started before this one (for the next run's key). */
  readonly runNumber: number;
}

/** One process run of a replica, with its health checker. */
interface Run {
  readonly process: ProcessRun;
  readonly checker: HealthChecker;
  /** Why the supervisor is killing this run to restart it, if it is. */
  killReason: string | null;
}

const HOST = "127.0.0.1";
/** Ready this long in one run, and the restart backoff starts again from the shortest delay. */
const STABLE_MS = 10_000;

/** One supervised replica: spawned through the guard, health-checked, restarted with backoff, stopped. */
export class Replica {
  readonly id: string;
  readonly #options: ReplicaOptions;
  readonly #logger: Logger;
  readonly #backoff = new Backoff();
  #state: ReplicaState = "starting";
  #port = 0;
  #restarts = 0;
  #lastProblem: string | null = null;
  /** The last failed check of a run that has not passed one yet: a booting service refusing connections is no news. */
  #startupProblem: string | null = null;
  #run: Run | null = null;
  #stopRequested = false;
  /** What the platform adds to the environment of the next run (the colour's database, ...); null: not known yet. */
  #env: Readonly<Record<string, string>> | null;
  /** A restart is due but waits for the environment (useEnv). */
  #restartWaiting = false;
  /** Runs started so far: the next run's key is `<id>#<runs>`. */
  #runs = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;

  constructor(options: ReplicaOptions) {
    this.#options = options;
    this.id = `${options.colour}-${options.index}`;
    this.#env = options.env;
    this.#logger = options.logger.child({ replica: this.id, version: options.version });
  }

  get index(): number {
    return this.#options.index;
  }

  get port(): number {
    return this.#port;
  }

  /** Spawns the first run; resolves once it is spawned, not once it is ready. */
  start(): Promise<void> {
    return this.#spawn();
  }

  /**
   * Takes over a run an earlier daemon started (found in the data plane process): health checking resumes
   * where it was, without a startup probe, and the run stays in rotation while it passes.
   */
  adopt(adopted: AdoptedRun): void {
    this.#port = adopted.port;
    this.#runs = adopted.runNumber;
    const checker = this.#checker(adopted.port);
    const run: Run = { process: adopted.run, checker, killReason: null };
    this.#run = run;
    this.#state = adopted.inRotation ? "ready" : "starting";
    this.#logger.info(
      { pid: adopted.run.pid, port: adopted.port, inRotation: adopted.inRotation },
      "replica adopted",
    );
    this.#note(`adopted by a new daemon (pid ${adopted.run.pid ?? "unknown"}, port ${adopted.port})`);
    void adopted.run.exited.then((exit) => this.#exited(run, exit));
    checker.resume(adopted.inRotation);
  }

  /** SIGTERM, SIGKILL after start.stopGrace; no restarts after this is called. Resolves once it has exited. */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stableTimer);
    const run = this.#run;
    if (run === null) {
      this.#setState("stopped");
      return;
    }
    run.checker.stop();
    this.#setState("stopping");
    await run.process.terminate();
  }

  /** Where to send traffic, while the replica is in rotation. */
  endpoint(): Endpoint | null {
    return this.#state === "ready" ? { id: this.id, host: HOST, port: this.#port } : null;
  }

  status(): ReplicaStatus {
    const { colour, index, version, logFile } = this.#options;
    return {
      ...{ id: this.id, colour, index, version, host: HOST, port: this.#port, logFile },
      pid: this.#run?.process.pid ?? null,
      state: this.#state,
      ready: this.#state === "ready",
      restarts: this.#restarts,
      lastProblem: this.#problemNow(),
    };
  }

  /** While a run starts, its failed checks, with why it was last restarted; otherwise the last problem. */
  #problemNow(): string | null {
    const startup = this.#state === "starting" ? this.#startupProblem : null;
    if (startup === null) return this.#lastProblem;
    return this.#restarts > 0 ? `${startup} (restarted after: ${this.#lastProblem})` : startup;
  }

  async #spawn(): Promise<void> {
    const port = await freePort(HOST, this.#options.takenPorts());
    if (this.#stopRequested) return;
    this.#port = port;
    const { colour, index, version, start, cwd, logFile } = this.#options;
    const launch = replicaLaunch(start, { colour, index, version, port }, this.#env ?? {});
    this.#note(`starting version ${version} on port ${port}: ${launch.command}`);
    this.#runs += 1;
    const guarded = (this.#options.runner ?? guardedRunner).run({
      ...launch,
      cwd,
      logFile,
      logRotation: this.#options.logRotation ?? DEFAULT_LOG_ROTATION,
      stopGraceMs: start.stopGrace,
      onPid: this.#onPid,
      key: `${this.id}#${this.#runs}`,
      labels: { colour, index, version, port, run: this.#runs },
    });
    const checker = this.#checker(port);
    const run: Run = { process: guarded, checker, killReason: null };
    this.#run = run;
    this.#startupProblem = null;
    this.#setState("starting");
    void guarded.exited.then((exit) => this.#exited(run, exit));
    checker.start();
  }

  #checker(port: number): HealthChecker {
    const { health, upstreamProtocol: protocol, agent } = this.#options;
    const listener = this.#healthListener();
    return new HealthChecker({ health, protocol, agent, host: HOST, port, listener });
  }

  /** The environment the platform adds to the next runs (an adopted replica learns it from the next start()). */
  useEnv(env: Readonly<Record<string, string>>): void {
    this.#env = env;
    if (this.#restartWaiting) {
      this.#restartWaiting = false;
      void this.#restart();
    }
  }

  /** Lets go of the run without stopping it (the daemon leaves; the data plane process keeps it). */
  detach(): void {
    this.#stopRequested = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stableTimer);
    this.#run?.checker.stop();
    this.#run = null;
  }

  readonly #onPid = (pid: number): void => {
    this.#logger.info({ pid, port: this.#port }, "replica spawned");
    this.#options.onChange();
  };

  #healthListener(): HealthListener {
    return {
      readinessChanged: (ready) => this.#readinessChanged(ready),
      checkFailed: (problem) => this.#problem(problem),
      restartNeeded: (problem) => this.#restartRun(problem),
    };
  }

  #readinessChanged(ready: boolean): void {
    clearTimeout(this.#stableTimer);
    if (ready) this.#stableTimer = setTimeout(() => this.#backoff.reset(), STABLE_MS);
    this.#logger.info({ lastProblem: this.#lastProblem }, ready ? "replica ready" : "replica unready");
    this.#setState(ready ? "ready" : "unready");
  }

  #problem(problem: string): void {
    if (this.#state === "starting") this.#startupProblem = problem;
    else this.#lastProblem = problem;
    this.#options.onChange();
  }

  /** The startup or liveness probe failed: take the run out of rotation and kill it; #exited restarts it. */
  #restartRun(problem: string): void {
    const run = this.#run;
    if (run === null || run.killReason !== null || this.#stopRequested) return;
    run.killReason = problem;
    run.checker.stop();
    this.#lastProblem = problem;
    this.#logger.warn({ problem }, "replica unhealthy; restarting it");
    this.#note(`restarting: ${problem}`);
    this.#setState("unready");
    void run.process.terminate();
  }

  #exited(run: Run, exit: ProcessExit): void {
    if (this.#run !== run) return;
    this.#run = null;
    run.checker.stop();
    clearTimeout(this.#stableTimer);
    this.#note(`${this.#stopRequested ? "stopped" : "down"}: ${describeExit(exit)}`);
    if (this.#stopRequested) {
      this.#setState("stopped");
      return;
    }
    this.#lastProblem = run.killReason ?? describeExit(exit);
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const delayMs = this.#backoff.next();
    this.#logger.warn({ lastProblem: this.#lastProblem, delayMs }, "replica down; restarting it");
    this.#setState("crashed");
    this.#restartTimer = setTimeout(() => void this.#restart(), delayMs);
  }

  async #restart(): Promise<void> {
    if (this.#stopRequested) return;
    if (this.#env === null) {
      // Adopted, and the colour's environment (its database, ...) is not known yet: the next start() gives it.
      this.#restartWaiting = true;
      return;
    }
    this.#restarts++;
    try {
      await this.#spawn();
    } catch (error) {
      this.#lastProblem = `could not be restarted: ${error instanceof Error ? error.message : String(error)}`;
      this.#scheduleRestart();
    }
  }

  #setState(state: ReplicaState): void {
    this.#state = state;
    this.#options.onChange();
  }

  /** A line from the supervisor in the replica's log, between the service's own lines. */
  #note(text: string): void {
    try {
      appendFileSync(
        this.#options.logFile,
        `[cutover ${new Date().toISOString()}] ${this.id}: ${redactSecrets(text)}\n`,
      );
    } catch (error) {
      this.#logger.warn({ error }, "could not write to the replica's log file");
    }
  }
}
