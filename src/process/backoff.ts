/** Exponential restart delay: `initialMs`, doubling up to `maxMs`, back to `initialMs` after `reset()`. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #attempt = 0;

  constructor(initialMs = 100, maxMs = 10_000) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  /** The delay before the next restart; each call doubles the one after. */
  next(): number {
    const delay = Math.min(this.#maxMs, this.#initialMs * 2 ** this.#attempt);
    if (delay < this.#maxMs) this.#attempt++;
    return delay;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
