import type { FleetView } from "../../fleet/model/fleet-view.js";
import type { StreamState } from "./live-stream.js";

export interface FleetFeedOptions {
  readonly url: string;
  readonly token: string;
  readonly everyMs: number;
  readonly onView: (view: FleetView) => void;
  readonly onState: (state: StreamState, detail: string) => void;
}

/**
 * Asks for the fleet view with the bearer header, then again `everyMs` after each answer (never two at
 * once, however slow the regions are); a 401 stops it for good.
 */
export class FleetFeed {
  readonly #o: FleetFeedOptions;
  #timer = 0;
  #stopped = false;

  constructor(options: FleetFeedOptions) {
    this.#o = options;
  }

  start(): void {
    this.#o.onState("connecting", "connecting");
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    window.clearTimeout(this.#timer);
  }

  async #poll(): Promise<void> {
    const problem = await this.#once();
    if (this.#stopped) return;
    if (problem === "refused") {
      this.#o.onState("refused", "the fleet dashboard refused the token (401)");
      return;
    }
    if (problem !== null) this.#o.onState("retrying", `${problem}; trying again`);
    this.#timer = window.setTimeout(() => void this.#poll(), this.#o.everyMs);
  }

  /** One request; null when it brought a view, else what went wrong. */
  async #once(): Promise<string | null> {
    try {
      const response = await fetch(this.#o.url, {
        headers: { authorization: `Bearer ${this.#o.token}` },
        cache: "no-store",
        signal: AbortSignal.timeout(15_000),
      });
      if (response.status === 401) return "refused";
      if (!response.ok) return `the fleet dashboard answered ${response.status}`;
      const view = (await response.json()) as FleetView;
      if (this.#stopped) return null;
      this.#o.onState("live", "live");
      this.#o.onView(view);
      return null;
    } catch (error) {
      return `the fleet dashboard is unreachable (${(error as Error).message})`;
    }
  }
}
