import type { SampleTick } from "../analysis/colour-sample.js";
import type { EngineEvent } from "../engine/engine-options.js";
import type { DeployRecord } from "../engine/lifecycle.js";
import type { ServiceStatus } from "../engine/service-status.js";

/** What the dashboard reads of the engine (the Engine class has all of it). */
export interface DeployFeed {
  status(): ServiceStatus;
  history(): readonly DeployRecord[];
  onEvent(listener: (event: EngineEvent) => void): () => void;
}

/** What the dashboard reads of the per-colour sampler (the ColourSampler class has all of it). */
export interface TickFeed {
  readonly intervalMs: number;
  onTick(listener: (tick: SampleTick) => void): () => void;
  recent(sinceMs?: number): readonly SampleTick[];
}
