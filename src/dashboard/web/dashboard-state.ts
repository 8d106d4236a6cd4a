import type { Colour } from "../../colour.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import type { LiveAddresses, LiveMessage, LiveTick, ReportIndex } from "../live-message.js";

/** Parts of the page a message changed. */
export type Part = "status" | "deploy" | "history" | "ticks";

export interface Moment {
  readonly at: number;
  readonly kind: "switch" | "rollback";
  readonly label: string;
}

/** What the page knows, kept up to date from the live stream. */
export class DashboardState {
  status: ServiceStatus | null = null;
  /** The deploy in progress, or the last one. */
  latest: DeployRecord | null = null;
  history: readonly DeployRecord[] = [];
  reports: ReportIndex = {};
  ticks: LiveTick[] = [];
  intervalMs: number | null = null;
  addresses: LiveAddresses = { live: null, preview: null };
  readonly windowMs: number;
  /** The daemon's clock minus this browser's. */
  #offsetMs = 0;

  constructor(windowMs = 300_000) {
    this.windowMs = windowMs;
  }

  /** The daemon's time now, as well as this page can tell. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  apply(message: LiveMessage): ReadonlySet<Part> {
    switch (message.type) {
      case "hello":
        this.#offsetMs = message.at - Date.now();
        this.status = message.status;
        this.latest = message.status.deploy ?? message.status.lastDeploy;
        this.history = message.history;
        this.reports = message.reports;
        this.ticks = [...message.ticks];
        this.intervalMs = message.intervalMs;
        this.addresses = message.addresses;
        return new Set<Part>(["status", "deploy", "history", "ticks"]);
      case "status":
        this.status = message.status;
        this.latest = message.status.deploy ?? message.status.lastDeploy ?? this.latest;
        return new Set<Part>(["status", "deploy"]);
      case "deploy":
        this.latest = message.record;
        return new Set<Part>(["deploy"]);
      case "history":
        this.history = message.history;
        this.reports = message.reports;
        return new Set<Part>(["history", "ticks"]);
      case "tick": {
        this.ticks.push(message.tick);
        const from = message.tick.at - this.windowMs;
        while ((this.ticks[0]?.at ?? from) < from) this.ticks.shift();
        return new Set<Part>(["ticks"]);
      }
      case "ping":
        return new Set<Part>();
    }
  }

  /** Each colour's share of the requests in the last interval; null when nothing was sent. */
  share(colour: Colour): number | null {
    const last = this.ticks.at(-1);
    if (!last) return null;
    const total = last.colours.blue.requests + last.colours.green.requests;
    return total > 0 ? last.colours[colour].requests / total : null;
  }

  /** Switch and rollback moments of the deploys the page knows. */
  moments(): Moment[] {
    const records = new Map(this.history.map((r) => [r.id, r]));
    if (this.latest) records.set(this.latest.id, this.latest);
    const moments: Moment[] = [];
    for (const r of records.values()) {
      if (r.switchedAt) {
        const rollback = r.kind === "rollback";
        moments.push({
          at: Date.parse(r.switchedAt),
          kind: rollback ? "rollback" : "switch",
          label: `${rollback ? "rollback" : "switch"} ${r.id}`,
        });
      }
      if (r.rolledBackAt)
        moments.push({ at: Date.parse(r.rolledBackAt), kind: "rollback", label: `rollback ${r.id}` });
    }
    return moments.sort((a, b) => a.at - b.at);
  }
}
