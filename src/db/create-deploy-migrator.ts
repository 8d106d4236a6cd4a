import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { DeployMigrator } from "./deploy-migrator.js";

/** The migrator for a service's config, or null when it declares no database. */
export async function createDeployMigrator(
  loaded: LoadedConfig,
  _logger: Logger,
): Promise<DeployMigrator | null> {
  if (!loaded.config.database) return null;
  return null;
}
