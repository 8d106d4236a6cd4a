import type { AnalysisInputs } from "../analysis/create-deploy-analysis.js";
import type { MetricSource } from "../analysis/metric-source.js";
import type { Address } from "../config/schema.js";
import type { Platform } from "../engine/ports/platform.js";
import type { StateStore } from "../engine/ports/state-store.js";
import type { TrafficRouter } from "../engine/ports/traffic-router.js";
import type { JournalShelf } from "../report/journal-shelf.js";

/**
 * What one platform adds to an engine: where colours run, how traffic moves, where state lives, where smoke
 * checks reach the idle colour, and what the analysis can read there. Everything else comes from the config,
 * the same on every platform (composeEngine).
 */
export interface PlatformParts {
  readonly platform: Platform;
  readonly router: TrafficRouter;
  readonly store: StateStore;
  readonly preview: Address;
  readonly analysis: AnalysisInputs;
  /** Sampled even without an analysis section, for the dashboard's charts and every deploy's report; null: none. */
  readonly sampleSource: MetricSource | null;
  /** Where each deploy's journal is kept for `cutover report` from another machine; null: the state folder is enough. */
  readonly journals: JournalShelf | null;
}
