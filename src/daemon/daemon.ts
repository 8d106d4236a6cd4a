import type { Logger } from "pino";
import type { ColourSampler } from "../analysis/colour-sampler.js";
import { cutoverBuild } from "../build.js";
import { type ComposedEngine, composeEngine } from "../compose/compose-engine.js";
import { type LocalParts, localParts } from "../compose/local-parts.js";
import type { LoadedConfig } from "../config/load.js";
import type { Address } from "../config/schema.js";
import { Dashboard } from "../dashboard/dashboard.js";
import { type AttachedDataPlane, attachDataPlane } from "../dataplane/dataplane-launch.js";
import type { RemoteDataPlane } from "../dataplane/remote-data-plane.js";
import type { Engine } from "../engine/engine.js";
import { CutoverError } from "../errors.js";
import { httpsUrl, httpUrl } from "../host-port.js";
import { logFailure } from "../log.js";
import type { LocalPlatform } from "../platforms/local/local-platform.js";
import { attachedReportDir } from "../report/report-location.js";
import { listenBase, previewLink, previewSecret } from "../router/preview-access.js";
import { AdminServer } from "./admin-server.js";
import {
  isProcessAlive,
  readDaemonInfo,
  readOrCreateToken,
  removeDaemonInfo,
  systemdUnit,
  writeDaemonInfo,
} from "./state-files.js";
import type { SyncMetrics } from "./sync-metrics.js";

export interface DaemonOptions {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
}

const url = (a: Address) => httpUrl(a);
/** Where users reach the service: https:// with router.tls. */
const liveUrl = (router: LoadedConfig["config"]["router"]) =>
  router.tls ? httpsUrl(router.listen) : httpUrl(router.listen);

/**
 * `cutover up`: the engine, the local platform and the admin API in this process, wired to the router and the
 * replicas in the data plane process (src/dataplane), which it starts or takes over. The only place that
 * knows the concrete classes.
 */
export class Daemon {
  readonly engine: Engine;
  readonly router: RemoteDataPlane;
  readonly platform: LocalPlatform;
  readonly admin: AdminServer;
  readonly dashboard: Dashboard;
  readonly #o: DaemonOptions;
  readonly #composed: ComposedEngine;
  readonly #sampler: ColourSampler;
  #stopping: Promise<void> | null = null;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  /** Whether this daemon took over a data plane process an earlier daemon left (rather than starting one). */
  readonly adopted: boolean;

  private constructor(
    options: DaemonOptions,
    parts: LocalParts,
    composed: ComposedEngine,
    seat: AttachedDataPlane,
  ) {
    this.#o = options;
    this.router = seat.dataPlane;
    this.adopted = seat.adopted;
    this.platform = parts.platform;
    this.engine = composed.engine;
    this.#composed = composed;
    // The local platform always has a sample source (the data plane's own metrics).
    this.#sampler = composed.sampler as ColourSampler;
    const { config } = options.loaded;
    this.dashboard = new Dashboard({
      engine: this.engine,
      ticks: this.#sampler,
      reportsDir: attachedReportDir(options.loaded),
      addresses: { live: liveUrl(config.router), preview: previewAddress(options.loaded) },
      logger: options.logger,
    });
    // database.sync: logical: its state, lag and slots next to the router's own metrics (prom-client is
    // loaded by the first scrape of a daemon that syncs, not at every start).
    let syncMetrics: Promise<SyncMetrics> | null = null;
    const syncText = async () => {
      if (!composed.migrator?.sync) return "";
      syncMetrics ??= import("./sync-metrics.js").then(
        (m) => new m.SyncMetrics(() => this.engine.syncReading),
      );
      return (await syncMetrics).metrics();
    };
    this.admin = new AdminServer({
      address: options.loaded.config.router.admin,
      token: readOrCreateToken(options.loaded.stateDir),
      engine: this.engine,
      metrics: async () => ({
        contentType: this.router.metricsContentType,
        text: `${await this.router.metrics()}${await syncText()}`,
      }),
      requestHold: this.router.requestHold,
      onShutdown: () => void this.stop(),
      logger: options.logger,
      routes: this.dashboard.routes,
      publicFiles: this.dashboard.files,
    });
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
  }

  /**
   * Starts everything and serves the active colour; refuses when another daemon owns the state folder. The
   * router and the replicas run in the data plane process: started now, or, when an earlier daemon left one
   * (a crash, a restart, an upgrade), taken over with the replicas it kept running.
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { stateDir, config } = options.loaded;
    const running = readDaemonInfo(stateDir);
    if (running && running.pid !== process.pid && isProcessAlive(running.pid)) {
      throw new CutoverError(
        "ALREADY_RUNNING",
        `a cutover daemon (pid ${running.pid}) already runs for ${stateDir}; use it, or \`cutover down\` first`,
      );
    }
    const seat = await attachDataPlane(options.loaded, options.logger);
    let daemon: Daemon;
    let parts: LocalParts | undefined;
    try {
      parts = localParts(options.loaded, options.logger, seat);
      if (seat.found.length > 0) await parts.platform.adopt(seat.found);
      daemon = new Daemon(options, parts, await composeEngine(options.loaded, parts, options.logger), seat);
    } catch (error) {
      // What an earlier daemon left serves on (its replicas let go of); a data plane started for nothing stops.
      if (seat.adopted) {
        await parts?.platform.detach().catch(() => {});
        seat.dataPlane.detach();
      } else await seat.dataPlane.close();
      throw error;
    }
    seat.dataPlane.onLost(() => {
      options.logger.error(
        "the data plane process is gone (its router and replicas with it); stopping this daemon: `cutover up` (or systemd) starts both again",
      );
      void daemon.stop();
    });
    try {
      await daemon.admin.start();
      daemon.#sampler.start();
      const info = {
        pid: process.pid,
        admin: url(config.router.admin),
        listen: liveUrl(config.router),
        preview: url(config.router.preview),
        startedAt: new Date().toISOString(),
        build: cutoverBuild().id,
        ...unitField(systemdUnit()),
      };
      writeDaemonInfo(stateDir, { ...info, ready: false });
      await daemon.engine.up();
      // `cutover up` returns once this says ready: the service is back as recorded, on disk too.
      writeDaemonInfo(stateDir, { ...info, ready: true });
    } catch (error) {
      await (daemon.adopted ? daemon.leave() : daemon.stop());
      throw error;
    }
    return daemon;
  }

  /** Resolves once the daemon has stopped (after \`stop()\` or a shutdown request). */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  /** Stops everything: both colours, the router and the data plane process, then this daemon (`cutover down`, Ctrl-C). */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop(true);
    return this.#stopping;
  }

  /**
   * This daemon exits; the data plane process serves on with the replicas in rotation, for the next daemon
   * to take over (SIGTERM: systemd's stop and restart, an upgrade's handover). A deploy in progress ends as
   * when the daemon stops.
   */
  leave(): Promise<void> {
    this.#stopping ??= this.#stop(false);
    return this.#stopping;
  }

  async #stop(everything: boolean): Promise<void> {
    const log = this.#o.logger;
    log.info(everything ? "stopping" : "leaving; the data plane serves on");
    this.#sampler.stop();
    this.dashboard.close();
    const quietly = (what: string) => logFailure(log, what);
    await this.#composed.close(async () => {
      if (everything) {
        await this.platform.close().catch(quietly("platform close"));
        await this.router.close().catch(quietly("router close"));
      } else {
        await this.platform.detach().catch(quietly("platform detach"));
        this.router.detach();
      }
      await this.admin.close().catch(quietly("admin close"));
    });
    removeDaemonInfo(this.#o.loaded.stateDir, process.pid);
    log.info("stopped");
    this.#resolveStopped();
  }
}

/** `{ systemdUnit }` when systemd runs this daemon, else nothing. */
function unitField(unit: string | undefined): { systemdUnit?: string } {
  return unit === undefined ? {} : { systemdUnit: unit };
}

/**
 * The idle colour's address on the dashboard: with router.previewAccess, the link that sets the preview
 * cookie (the main address, reachable by testers); else the preview listener.
 */
function previewAddress(loaded: LoadedConfig): string {
  const { router } = loaded.config;
  if (!router.previewAccess) return url(router.preview);
  const secret = previewSecret(loaded.stateDir, router.previewAccess.secret);
  return previewLink(listenBase(router.listen, router.tls !== undefined), secret);
}
