import { mkdir, stat } from "node:fs/promises";
import { Agent } from "node:http";
import { join, resolve } from "node:path";
import { type Logger, pino } from "pino";
import { COLOURS, type Colour } from "../../colour.js";
import type { HealthConfig, RouterConfig, StartConfig } from "../../config/schema.js";
import type { ColourStatus, Endpoint, Platform, WaitReadyOptions } from "../../engine/ports/platform.js";
import type { ProcessRunner } from "../../process/process-runner.js";
import type { LogRotation } from "../../process/rotating-log.js";
import { ReplicasNotReadyError, StartDirectoryMissingError } from "./errors.js";
import { readLogTail } from "./log-tail.js";
import { type AdoptedRun, Replica } from "./replica.js";
import { waitUntil } from "./wait-until.js";

export interface LocalPlatformOptions {
  readonly start: StartConfig;
  readonly health: HealthConfig;
  /** What the replicas speak (router.upstreamProtocol), for their health checks; default http1. */
  readonly upstreamProtocol?: RouterConfig["upstreamProtocol"] | undefined;
  /** The directory of cutover.yaml; start.cwd is resolved against it. */
  readonly cwd: string;
  /** Each replica logs to <logDir>/<colour>-<index>.log. */
  readonly logDir: string;
  /** Each replica log is rotated past this size, this many older files kept (default 10 MiB, 5). */
  readonly logRotation?: LogRotation | undefined;
  readonly logger?: Logger;
  /** Where replicas run; default: guards that are children of this process (they die with it). */
  readonly runner?: ProcessRunner;
}

/** A run found in the data plane process, with the replica it belongs to. */
export interface FoundRun extends AdoptedRun {
  readonly colour: Colour;
  readonly index: number;
  readonly version: string;
}

type EndpointListener = (colour: Colour, endpoints: readonly Endpoint[]) => void;

/** What runs on one colour. */
interface Deployment {
  readonly version: string;
  readonly replicas: readonly Replica[];
  /** Taken over from an earlier daemon, and not yet confirmed by a start() of the same version. */
  adopted: boolean;
}

/** Colours as supervised child processes on this machine, each replica on a free port of 127.0.0.1. */
export class LocalPlatform implements Platform {
  readonly #options: LocalPlatformOptions;
  readonly #logger: Logger;
  /** One kept connection to each replica's health endpoint (checks of a replica never overlap). */
  readonly #healthConnections = new Agent({ keepAlive: true });
  readonly #deployments = new Map<Colour, Deployment>();
  readonly #endpointListeners = new Set<EndpointListener>();
  readonly #changeListeners = new Set<() => void>();
  /** The ready set each colour last announced, as a key; a colour starts with none. */
  readonly #announced = new Map<Colour, string>(COLOURS.map((colour) => [colour, ""]));
  #closed = false;

  constructor(options: LocalPlatformOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? pino({ enabled: false })).child({ component: "local-platform" });
  }

  async start(
    colour: Colour,
    version: string,
    replicas: number,
    env: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    if (this.#closed) throw new Error("the local platform is closed");
    const current = this.#deployments.get(colour);
    if (current?.adopted && current.version === version) {
      await this.#keepAdopted(colour, current, replicas, env);
      return;
    }
    await this.stop(colour);
    const cwd = await this.#startDirectory();
    await mkdir(this.#options.logDir, { recursive: true });
    const deployment = {
      version,
      replicas: this.#replicas(colour, version, replicas, cwd, env),
      adopted: false,
    };
    this.#deployments.set(colour, deployment);
    this.#logger.info({ colour, version, replicas }, "starting colour");
    try {
      await Promise.all(deployment.replicas.map((replica) => replica.start()));
    } catch (error) {
      await this.stop(colour);
      throw error;
    }
  }

  waitReady(colour: Colour, options: WaitReadyOptions): Promise<void> {
    return waitUntil({
      ...options,
      done: () => this.#allReady(colour),
      hopeless: () => (this.#deployments.has(colour) ? undefined : "so there is nothing to wait for"),
      subscribe: (onChange) => {
        this.#changeListeners.add(onChange);
        return () => this.#changeListeners.delete(onChange);
      },
      failure: (reason) => this.#notReadyError(colour, reason),
    });
  }

  /**
   * Takes over the runs an earlier daemon left in the data plane process, colour by colour: each becomes a
   * replica again, health-checked and restarted as if this daemon had started it (a restart waits for the
   * colour's environment, which the next start() gives). One version a colour: runs of another (a crash in
   * the middle of a start) are stopped. Call before anything starts.
   */
  async adopt(runs: readonly FoundRun[]): Promise<void> {
    const cwd = await this.#startDirectory();
    for (const colour of COLOURS) {
      const found = runs.filter((run) => run.colour === colour).sort((a, b) => a.index - b.index);
      const [first] = found;
      if (first === undefined) continue;
      const mine = new Map<number, FoundRun>();
      for (const run of found)
        if (run.version === first.version && !mine.has(run.index)) mine.set(run.index, run);
      for (const stray of found.filter((run) => mine.get(run.index) !== run)) void stray.run.terminate();
      const replicas = [...mine.values()].map((run) => {
        const replica = this.#replica(colour, first.version, run.index, cwd, null);
        replica.adopt(run);
        return replica;
      });
      this.#deployments.set(colour, { version: first.version, replicas, adopted: true });
      this.#logger.info({ colour, version: first.version, replicas: replicas.length }, "adopted a colour");
      this.#changed(colour);
    }
  }

  /**
   * start() of the version a colour was adopted with: its replicas go on (no restart, no dropped request),
   * learn the colour's environment, and the set is made `count` long (missing ones started, extra stopped).
   */
  async #keepAdopted(
    colour: Colour,
    deployment: Deployment,
    count: number,
    env: Readonly<Record<string, string>>,
  ): Promise<void> {
    const cwd = await this.#startDirectory();
    const kept = deployment.replicas.filter((replica) => replica.index < count);
    const extra = deployment.replicas.filter((replica) => replica.index >= count);
    for (const replica of kept) replica.useEnv(env);
    const missing = Array.from({ length: count }, (_, index) => index).filter(
      (index) => !kept.some((replica) => replica.index === index),
    );
    const added = missing.map((index) => this.#replica(colour, deployment.version, index, cwd, env));
    const replicas = [...kept, ...added].sort((a, b) => a.index - b.index);
    this.#deployments.set(colour, { version: deployment.version, replicas, adopted: false });
    this.#logger.info(
      {
        colour,
        version: deployment.version,
        kept: kept.length,
        started: added.length,
        stopped: extra.length,
      },
      "keeping the adopted replicas",
    );
    await Promise.all([
      ...added.map((replica) => replica.start()),
      ...extra.map((replica) => replica.stop()),
    ]);
    this.#changed(colour);
  }

  /**
   * Lets go of every replica without stopping it: the daemon leaves, the data plane process keeps them
   * running for the next daemon to adopt.
   */
  async detach(): Promise<void> {
    this.#closed = true;
    for (const deployment of this.#deployments.values()) {
      for (const replica of deployment.replicas) replica.detach();
    }
    this.#deployments.clear();
    this.#healthConnections.destroy();
  }

  async stop(colour: Colour): Promise<void> {
    const deployment = this.#deployments.get(colour);
    if (deployment === undefined) return;
    this.#logger.info({ colour, version: deployment.version }, "stopping colour");
    await Promise.all(deployment.replicas.map((replica) => replica.stop()));
    if (this.#deployments.get(colour) === deployment) this.#deployments.delete(colour);
    this.#changed(colour);
  }

  status(colour: Colour): ColourStatus {
    const deployment = this.#deployments.get(colour);
    const replicas = deployment?.replicas.map((replica) => replica.status()) ?? [];
    return { colour, version: deployment?.version ?? null, replicas };
  }

  onEndpoints(listener: EndpointListener): () => void {
    this.#endpointListeners.add(listener);
    return () => this.#endpointListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(COLOURS.map((colour) => this.stop(colour)));
    this.#healthConnections.destroy();
  }

  #replicas(
    colour: Colour,
    version: string,
    count: number,
    cwd: string,
    env: Readonly<Record<string, string>>,
  ): Replica[] {
    return Array.from({ length: count }, (_, index) => this.#replica(colour, version, index, cwd, env));
  }

  /** One replica; `env` null: not known yet (adopted), its restarts wait for useEnv(). */
  #replica(
    colour: Colour,
    version: string,
    index: number,
    cwd: string,
    env: Readonly<Record<string, string>> | null,
  ): Replica {
    const logFile = join(this.#options.logDir, `${colour}-${index}.log`);
    const { start, health, upstreamProtocol, logRotation } = this.#options;
    return new Replica({
      ...{ start, health, upstreamProtocol, cwd, logFile, logRotation },
      ...{ agent: this.#healthConnections, logger: this.#logger },
      colour,
      index,
      version,
      env,
      takenPorts: () => this.#takenPorts(),
      onChange: () => this.#changed(colour),
      runner: this.#options.runner,
    });
  }

  async #startDirectory(): Promise<string> {
    const directory = resolve(this.#options.cwd, this.#options.start.cwd);
    const found = await stat(directory).catch(() => undefined);
    if (!found?.isDirectory()) throw new StartDirectoryMissingError(directory);
    return directory;
  }

  #takenPorts(): Set<number> {
    const deployments = [...this.#deployments.values()];
    return new Set(deployments.flatMap((deployment) => deployment.replicas.map((replica) => replica.port)));
  }

  #endpoints(colour: Colour): Endpoint[] {
    const replicas = this.#deployments.get(colour)?.replicas ?? [];
    return replicas.flatMap((replica) => replica.endpoint() ?? []);
  }

  #allReady(colour: Colour): boolean {
    const replicas = this.#deployments.get(colour)?.replicas ?? [];
    return replicas.length > 0 && replicas.every((replica) => replica.endpoint() !== null);
  }

  /** Tells the endpoint listeners when the ready set of `colour` changed, and wakes the waiters. */
  #changed(colour: Colour): void {
    const endpoints = this.#endpoints(colour);
    const key = endpoints.map((endpoint) => `${endpoint.id}@${endpoint.port}`).join(",");
    if (this.#announced.get(colour) !== key) {
      this.#announced.set(colour, key);
      this.#logger.info({ colour, endpoints: endpoints.map((endpoint) => endpoint.id) }, "endpoints changed");
      for (const listener of this.#endpointListeners) this.#tell(listener, colour, endpoints);
    }
    for (const listener of [...this.#changeListeners]) listener();
  }

  #tell(listener: EndpointListener, colour: Colour, endpoints: readonly Endpoint[]): void {
    try {
      listener(colour, endpoints);
    } catch (error) {
      this.#logger.error({ error, colour }, "an endpoints listener threw");
    }
  }

  #notReadyError(colour: Colour, reason: string): ReplicasNotReadyError {
    const { version, replicas } = this.status(colour);
    const notReady = replicas.filter((replica) => !replica.ready);
    const details = notReady.map((status) => ({ status, logTail: readLogTail(status.logFile) }));
    return new ReplicasNotReadyError(colour, version, reason, details);
  }
}
