/**
 * Engine options for a test, made as the composition root makes them (src/compose/engine-settings.ts) from
 * a cutover.yaml, with the parts the test brings (a platform, a router, a store: real or in-memory) and the
 * settings it wants different. One builder, so a test never writes the engine's options out by hand.
 */
import { type EngineSettings, engineSettings } from "../../src/compose/engine-settings.js";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import type { EngineOptions } from "../../src/engine/engine-options.js";
import { silentLogger } from "../../src/log.js";

type Parts = Pick<EngineOptions, "platform" | "router" | "store" | "preview"> &
  Partial<Pick<EngineOptions, "logger" | "migrator" | "analysis">>;

/** A service's config with every default: what `config` is when a test has no cutover.yaml of its own. */
const MINIMAL = parseConfig(
  "service: testsvc\nversion: 1.0.0\nstart: { command: unused }\n",
  "/tmp/cutover.yaml",
);

export function engineOptions(
  config: Config | null,
  parts: Parts,
  settings: Partial<EngineSettings> = {},
): EngineOptions {
  return {
    ...engineSettings(config ?? MINIMAL.config),
    ...settings,
    logger: silentLogger(),
    ...parts,
  };
}
