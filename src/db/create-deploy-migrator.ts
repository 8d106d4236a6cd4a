import type { Logger } from "pino";
import type { Colour } from "../colour.js";
import type { DatabaseConfig } from "../config/database-schema.js";
import type { LoadedConfig } from "../config/load.js";
import type { DeployMigrator } from "../engine/ports/deploy-migrator.js";
import { type DatabaseHandle, openDatabase } from "./open-database.js";
import { MigrationRunner } from "./runner/migration-runner.js";
import { runnerSettings } from "./runner/runner-settings.js";
import { redactUrl } from "./runner/sql-client.js";
import { SqlDeployMigrator } from "./sql-deploy-migrator.js";
import { LogicalSync } from "./sync/logical-sync.js";
import { SyncedDeployMigrator } from "./synced-deploy-migrator.js";

/**
 * The migrator for a service's config, or null when it declares no database. With `database.url` (or
 * DATABASE_URL) it migrates that server; otherwise it opens the embedded PGlite under the state folder and
 * serves it on the wire protocol for the colours (this process owns it until close()). With
 * database.sync: logical, each colour has its own server database, kept in sync.
 */
export async function createDeployMigrator(
  loaded: LoadedConfig,
  logger: Logger,
): Promise<DeployMigrator | null> {
  const config = loaded.config.database;
  if (!config) return null;
  if (config.sync === "logical") return syncedMigrator(loaded, config, logger);
  const database = await openDatabase(loaded, config, logger, "own");
  logger.info({ database: database.where }, "database for migrations");
  return migratorFor(loaded, config, database, logger);
}

function migratorFor(
  loaded: LoadedConfig,
  config: DatabaseConfig,
  database: DatabaseHandle,
  logger: Logger,
): SqlDeployMigrator {
  const runner = new MigrationRunner({ ...runnerSettings(loaded, config), url: database.url, logger });
  return new SqlDeployMigrator({ database, runner, config, logger });
}

/** The sync of the colours' databases cutover.yaml asks for; null unless database.sync is logical. */
export function createLogicalSync(loaded: LoadedConfig, logger: Logger): LogicalSync | null {
  const config = loaded.config.database;
  if (config?.sync !== "logical") return null;
  return new LogicalSync({
    service: loaded.config.service,
    schema: config.schema,
    // The schema guarantees both URLs with sync: logical.
    urls: { blue: config.url as string, green: config.green?.url as string },
    copyTimeoutMs: config.copyTimeout,
    switchoverTimeoutMs: config.switchoverTimeout,
    logger,
  });
}

function syncedMigrator(loaded: LoadedConfig, config: DatabaseConfig, logger: Logger): SyncedDeployMigrator {
  // The schema guarantees both URLs with sync: logical.
  const urls: Record<Colour, string> = { blue: config.url as string, green: config.green?.url as string };
  const server = (url: string): DatabaseHandle => ({
    kind: "server",
    url,
    where: redactUrl(url),
    close: async () => undefined,
  });
  logger.info(
    { blue: redactUrl(urls.blue), green: redactUrl(urls.green) },
    "databases for migrations, kept in sync by logical replication",
  );
  const sync = createLogicalSync(loaded, logger) as LogicalSync;
  return new SyncedDeployMigrator(
    {
      blue: migratorFor(loaded, config, server(urls.blue), logger),
      green: migratorFor(loaded, config, server(urls.green), logger),
    },
    sync,
    logger,
  );
}
