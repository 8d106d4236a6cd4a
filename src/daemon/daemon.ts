import { join } from "node:path";
import type { Logger } from "pino";
import { ColourSampler } from "../analysis/colour-sampler.js";
import { createDeployAnalysis } from "../analysis/create-deploy-analysis.js";
import type { CutoverAnalysis } from "../analysis/cutover-analysis.js";
import { RouterMetricSource } from "../analysis/sources/router-metric-source.js";
import type { LoadedConfig } from "../config/load.js";
import type { Address } from "../config/schema.js";
import { Dashboard } from "../dashboard/dashboard.js";
import { createDeployMigrator } from "../db/create-deploy-migrator.js";
import type { DeployMigrator } from "../db/deploy-migrator.js";
import { Engine } from "../engine/engine.js";
import { FileStateStore } from "../engine/file-state-store.js";
import { CutoverError } from "../errors.js";
import { LocalPlatform } from "../platforms/local/local-platform.js";
import { type AlertsAndReports, attachAlertsAndReports } from "../report/attach-alerts-and-reports.js";
import { attachedReportDir } from "../report/report-location.js";
import { createDataPlane } from "../router/create-data-plane.js";
import type { DataPlane } from "../router/data-plane.js";
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
  readonly router: DataPlane;
  readonly platform: LocalPlatform;
  readonly admin: AdminServer;
  readonly dashboard: Dashboard;
  readonly #o: DaemonOptions;
  readonly #sampler: ColourSampler;
  readonly #analysis: CutoverAnalysis | null;
  readonly #reports: AlertsAndReports;
  readonly #migrator: DeployMigrator | null;
  #stopping: Promise<void> | null = null;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  private constructor(options: DaemonOptions, parts: DaemonParts) {
    this.#o = options;
    this.router = parts.router;
    this.platform = parts.platform;
    this.engine = parts.engine;
    this.#migrator = parts.migrator;
    this.#sampler = parts.sampler;
    this.#analysis = parts.analysis;
    this.#reports = attachAlertsAndReports(this.engine, {
      loaded: options.loaded,
      analysis: parts.analysis,
      sampler: parts.sampler,
      logger: options.logger,
    });
    const { config } = options.loaded;
    this.dashboard = new Dashboard({
      engine: this.engine,
      ticks: parts.sampler,
      reportsDir: attachedReportDir(options.loaded),
      addresses: { live: url(config.router.listen), preview: url(config.router.preview) },
      logger: options.logger,
    });
    this.admin = new AdminServer({
      address: options.loaded.config.router.admin,
      token: readOrCreateToken(options.loaded.stateDir),
      engine: this.engine,
      metrics: async () => ({
        contentType: this.router.metricsContentType,
        text: await this.router.metrics(),
      }),
      onShutdown: () => void this.stop(),
      logger: options.logger,
      routes: this.dashboard.routes,
      publicFiles: this.dashboard.files,
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
    const daemon = new Daemon(options, await buildParts(options));
    try {
      await daemon.router.start();
      await daemon.admin.start();
      daemon.#sampler.start();
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

  /** Resolves once the daemon has stopped (after \`stop()\` or a shutdown request). */
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
    this.#sampler.stop();
    this.dashboard.close();
    const quietly = (what: string) => (error: unknown) =>
      log.error({ err: (error as Error).message }, `${what} failed`);
    await this.engine.close().catch(quietly("engine close"));
    this.#reports.detach();
    this.#analysis?.close();
    await this.platform.close().catch(quietly("platform close"));
    await this.router.close().catch(quietly("router close"));
    await this.admin.close().catch(quietly("admin close"));
    await this.#migrator?.close().catch(quietly("database close"));
    removeDaemonInfo(this.#o.loaded.stateDir, process.pid);
    log.info("stopped");
    this.#resolveStopped();
  }
}

interface DaemonParts {
  readonly router: DataPlane;
  readonly platform: LocalPlatform;
  readonly engine: Engine;
  readonly migrator: DeployMigrator | null;
  /** Per-colour request rate, errors and latency: shared by the analysis and the dashboard's charts. */
  readonly sampler: ColourSampler;
  readonly analysis: CutoverAnalysis | null;
}

/** The concrete router, platform, database side and analysis for this config, wired to one engine. */
async function buildParts({ loaded, logger }: DaemonOptions): Promise<DaemonParts> {
  const { config, stateDir, dir } = loaded;
  const router = createDataPlane(loaded, logger);
  const platform = new LocalPlatform({
    start: config.start,
    health: config.health,
    cwd: dir,
    logDir: join(stateDir, LOG_DIR),
    logger,
  });
  platform.onEndpoints((colour, endpoints) => router.setEndpoints(colour, endpoints));
  const migrator = await createDeployMigrator(loaded, logger);
  const analysis = createDeployAnalysis(loaded, router, logger, platform);
  const sampler =
    analysis?.sampler ??
    new ColourSampler({ source: new RouterMetricSource(router), intervalMs: 1000, logger });
  const engine = await Engine.open({
    service: config.service,
    initialVersion: config.version,
    replicas: config.replicas,
    readyTimeoutMs: config.deploy.readyTimeout,
    scaleDownDelayMs: config.deploy.scaleDownDelay,
    drainTimeoutMs: config.router.drainTimeout,
    autoPromote: config.deploy.autoPromote,
    smoke: config.deploy.smoke,
    preview: config.router.preview,
    platform,
    router,
    store: new FileStateStore(stateDir),
    logger,
    migrator,
    analysis,
    keepFailedColour: config.analysis?.keepFailedColour ?? true,
  });
  return { router, platform, engine, migrator, sampler, analysis };
}
