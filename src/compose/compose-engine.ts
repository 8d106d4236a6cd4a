import type { Logger } from "pino";
import { ColourSampler } from "../analysis/colour-sampler.js";
import { createDeployAnalysis } from "../analysis/create-deploy-analysis.js";
import type { CutoverAnalysis } from "../analysis/cutover-analysis.js";
import type { LoadedConfig } from "../config/load.js";
import { Engine } from "../engine/engine.js";
import type { DeployMigrator } from "../engine/ports/deploy-migrator.js";
import { logFailure } from "../log.js";
import { type AlertsAndReports, attachAlertsAndReports } from "../report/attach-alerts-and-reports.js";
import { engineSettings } from "./engine-settings.js";
import type { PlatformParts } from "./platform-parts.js";

/** An engine with everything cutover.yaml asks for around it: migrations, analysis, alerts and reports. */
export interface ComposedEngine {
  readonly engine: Engine;
  readonly migrator: DeployMigrator | null;
  readonly analysis: CutoverAnalysis | null;
  /** Per-colour request rate, errors and latency: the analysis's, or the platform's sample source; null: none. */
  readonly sampler: ColourSampler | null;
  readonly reports: AlertsAndReports;
  /**
   * Closes the engine and what was composed around it, without waiting for reports still being written
   * (await `reports.idle()` first for that). `beforeDatabase` runs just before the database is closed: the
   * owner stops the platform there, so replicas never outlive the embedded database they use.
   */
  close(beforeDatabase?: () => Promise<void>): Promise<void>;
}

/**
 * The composition root: turns a loaded config and one platform's parts into an engine. Every platform,
 * the daemon, the Kubernetes command path and the tests build their engine here, so a section of
 * cutover.yaml takes effect everywhere or is refused at load (config/platform-fit.ts), never dropped.
 */
export async function composeEngine(
  loaded: LoadedConfig,
  parts: PlatformParts,
  logger: Logger,
): Promise<ComposedEngine> {
  const migrator = await deployMigrator(loaded, logger);
  let analysis: CutoverAnalysis | null = null;
  let sampler: ColourSampler | null = null;
  try {
    analysis = createDeployAnalysis(loaded, parts.analysis, logger);
    sampler = analysis?.sampler ?? sampleOnly(parts, logger);
    const engine = await Engine.open({
      ...engineSettings(loaded.config),
      preview: parts.preview,
      platform: parts.platform,
      router: parts.router,
      store: parts.store,
      logger,
      migrator,
      analysis,
    });
    const reports = attachAlertsAndReports(engine, {
      loaded,
      analysis,
      sampler,
      logger,
      journals: parts.journals,
    });
    return {
      engine,
      migrator,
      analysis,
      sampler,
      reports,
      close: closer(engine, reports, analysis, sampler, migrator, logger),
    };
  } catch (error) {
    analysis?.close();
    sampler?.stop();
    await migrator?.close().catch(() => {});
    throw error;
  }
}

/**
 * The database's migrator, or null without a `database:` section. Its module (pg, the migration parser's
 * WebAssembly, PGlite) is loaded only then: a service without a database does not pay ~0.2 CPU-s for it at
 * every start of the daemon.
 */
async function deployMigrator(loaded: LoadedConfig, logger: Logger): Promise<DeployMigrator | null> {
  if (!loaded.config.database) return null;
  const { createDeployMigrator } = await import("../db/create-deploy-migrator.js");
  return createDeployMigrator(loaded, logger);
}

function sampleOnly(parts: PlatformParts, logger: Logger): ColourSampler | null {
  if (parts.sampleSource === null) return null;
  return new ColourSampler({ source: parts.sampleSource, intervalMs: 1000, logger });
}

function closer(
  engine: Engine,
  reports: AlertsAndReports,
  analysis: CutoverAnalysis | null,
  sampler: ColourSampler | null,
  migrator: DeployMigrator | null,
  logger: Logger,
): ComposedEngine["close"] {
  let closing: Promise<void> | null = null;
  const quietly = (what: string) => logFailure(logger, what);
  return (beforeDatabase) => {
    closing ??= (async () => {
      await engine.close().catch(quietly("engine close"));
      reports.detach();
      analysis?.close();
      sampler?.stop();
      await beforeDatabase?.().catch(quietly("closing the platform"));
      await migrator?.close().catch(quietly("database close"));
    })();
    return closing;
  };
}
