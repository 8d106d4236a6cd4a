import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { Router } from "../router/router.js";
import type { DeployAnalysis } from "./deploy-analysis.js";

/** The analysis for a service's config, or null when it declares none. */
export function createDeployAnalysis(
  loaded: LoadedConfig,
  _router: Router,
  _logger: Logger,
): DeployAnalysis | null {
  if (!loaded.config.analysis) return null;
  return null;
}
