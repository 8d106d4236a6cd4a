import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { DeployMigrator } from "../engine/ports/deploy-migrator.js";
import { openDatabase } from "./open-database.js";
import { MigrationRunner } from "./runner/migration-runner.js";
import { runnerSettings } from "./runner/runner-settings.js";
import { SqlDeployMigrator } from "./sql-deploy-migrator.js";

/**
 * The migrator for a service's config, or null when it declares no database. With `database.url` (or
 * DATABASE_URL) it migrates that server; otherwise it opens the embedded PGlite under the state folder and
 * serves it on the wire protocol for the colours (this process owns it until close()).
 */
export async function createDeployMigrator(
  loaded: LoadedConfig,
  logger: Logger,
): Promise<DeployMigrator | null> {
  const config = loaded.config.database;
  if (!config) return null;
  const database = await openDatabase(loaded, config, logger, "own");
  const runner = new MigrationRunner({ ...runnerSettings(loaded, config), url: database.url, logger });
  logger.info({ database: database.where }, "database for migrations");
  return new SqlDeployMigrator({ database, runner, config, logger });
}
