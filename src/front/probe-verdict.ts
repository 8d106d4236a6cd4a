/** How many probes in a row change a region's health, as Kubernetes probes count them. */
export interface ProbeThresholds {
  /** Consecutive passes that make a region healthy. */
  readonly successThreshold: number;
  /** Consecutive failures that make a region unhealthy. */
  readonly failureThreshold: number;
}

/**
 * A region's health from its probes: null until decided, then healthy after `successThreshold` passes in a
 * row and unhealthy after `failureThreshold` failures in a row; a single odd result changes nothing.
 */
export class ProbeVerdict {
  readonly #thresholds: ProbeThresholds;
  #healthy: boolean | null = null;
  #last: boolean | null = null;
  #run = 0;

  constructor(thresholds: ProbeThresholds) {
    this.#thresholds = thresholds;
  }

  get healthy(): boolean | null {
    return this.#healthy;
  }

  /** Counts one probe; true when it changed the verdict. */
  record(passed: boolean): boolean {
    this.#run = passed === this.#last ? this.#run + 1 : 1;
    this.#last = passed;
    if (this.#healthy === passed) return false;
    const needed = passed ? this.#thresholds.successThreshold : this.#thresholds.failureThreshold;
    if (this.#run < needed) return false;
    this.#healthy = passed;
    return true;
  }
}
