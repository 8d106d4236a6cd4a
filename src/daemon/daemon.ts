import { join } from "node:path";
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { Address } from "../config/schema.js";
import { Engine } from "../engine/engine.js";
import { StateStore } from "../engine/state-store.js";
import { CutoverError } from "../errors.js";
import { LocalPlatform } from "../platforms/local/local-platform.js";
import { Router } from "../router/router.js";
import { AdminServer } from "./admin-server.js";
import {
  isProcessAlive,
  LOG_DIR,
  readDaemonInfo,
  readOrCreateToken,
  removeDaemonInfo,
  writeDaemonInfo,
} from "./state-files.js";

export interface DaemonOptions {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
}

const url = (a: Address) => `http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;

/**
 * `cutover up`: the router, the local platform, the engine and the admin API in one process, wired together.
 * The only place that knows the concrete classes.
 */
export class Daemon {
  readonly engine: Engine;
  readonly router: Router;
  readonly platform: LocalPlatform;
  readonly admin: AdminServer;
  readonly #o: DaemonOptions;
  #stopping: Promise<void> | null = null;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  private constructor(options: DaemonOptions) {
    this.#o = options;
    const { config, stateDir, dir } = options.loaded;
    const logger = options.logger;
    const store = new StateStore(stateDir);
    this.router = new Router({
      listen: config.router.listen,
      preview: config.router.preview,
      sticky: config.router.sticky,
      initialActive: store.loadState()?.active ?? "blue",
      logger,
    });
    this.platform = new LocalPlatform({
      start: config.start,
      health: config.health,
      cwd: dir,
      logDir: join(stateDir, LOG_DIR),
      logger,
    });
    this.platform.onEndpoints((colour, endpoints) => this.router.setEndpoints(colour, endpoints));
    this.engine = new Engine({
      service: config.service,
      initialVersion: config.version,
      replicas: config.replicas,
      readyTimeoutMs: config.deploy.readyTimeout,
      scaleDownDelayMs: config.deploy.scaleDownDelay,
      drainTimeoutMs: config.router.drainTimeout,
      autoPromote: config.deploy.autoPromote,
      smoke: config.deploy.smoke,
      preview: config.router.preview,
      platform: this.platform,
      router: this.router,
      store,
      logger,
    });
    this.admin = new AdminServer({
      address: config.router.admin,
      token: readOrCreateToken(stateDir),
      engine: this.engine,
      metrics: async () => ({
        contentType: this.router.metricsContentType,
        text: await this.router.metrics(),
      }),
      onShutdown: () => void this.stop(),
      logger,
    });
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
  }

  /** Starts everything and serves the active colour; refuses when another daemon owns the state folder. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { stateDir, config } = options.loaded;
    const running = readDaemonInfo(stateDir);
    if (running && running.pid !== process.pid && isProcessAlive(running.pid)) {
      throw new CutoverError(
        "ALREADY_RUNNING",
        `a cutover daemon (pid ${running.pid}) already runs for ${stateDir}; use it, or \`cutover down\` first`,
      );
    }
    const daemon = new Daemon(options);
    try {
      await daemon.router.start();
      await daemon.admin.start();
      writeDaemonInfo(stateDir, {
        pid: process.pid,
        admin: url(config.router.admin),
        listen: url(config.router.listen),
        preview: url(config.router.preview),
        startedAt: new Date().toISOString(),
      });
      await daemon.engine.up();
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  /** Resolves once the daemon has stopped (after `stop()` or a shutdown request). */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const log = this.#o.logger;
    log.info("stopping");
    await this.engine.close().catch((error: unknown) => log.error({ err: error }, "engine close failed"));
    await this.platform.close().catch((error: unknown) => log.error({ err: error }, "platform close failed"));
    await this.router.close().catch((error: unknown) => log.error({ err: error }, "router close failed"));
    await this.admin.close().catch((error: unknown) => log.error({ err: error }, "admin close failed"));
    removeDaemonInfo(this.#o.loaded.stateDir, process.pid);
    log.info("stopped");
    this.#resolveStopped();
  }
}
