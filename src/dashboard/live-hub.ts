import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { SampleTick } from "../analysis/colour-sample.js";
import type { EngineEvent } from "../engine/engine-options.js";
import type { DeployRecord } from "../engine/lifecycle.js";
import type { DeployFeed, TickFeed } from "./deploy-feed.js";
import { type LiveAddresses, type LiveMessage, type ReportIndex, toLiveTick } from "./live-message.js";
import type { ReportShelf } from "./report-shelf.js";

export interface LiveHubOptions {
  readonly engine: DeployFeed;
  /** null: no sampler runs, the page shows no charts. */
  readonly ticks: TickFeed | null;
  readonly reports: ReportShelf | null;
  readonly addresses: LiveAddresses;
  readonly logger: Logger;
  /** How much of the sampler's past a new page gets. Default 5 minutes. */
  readonly windowMs?: number;
  /** Deploys sent to the page, newest last. Default 50. */
  readonly historyLimit?: number;
  /** A page that falls this far behind (bytes queued) is cut off; it reconnects and gets a fresh snapshot. */
  readonly maxQueuedBytes?: number;
  /** A line at least this often, so a dead connection is noticed. Default 15 s. */
  readonly pingMs?: number;
}

/**
 * Fans the engine's events and the sampler's ticks out to every open dashboard as NDJSON. Each change is
 * turned into a line once, whatever the number of pages; with no page open it listens to nothing.
 */
export class LiveHub {
  readonly #o: LiveHubOptions;
  readonly #clients = new Set<ServerResponse>();
  #unsubscribe: (() => void)[] = [];
  #ping: NodeJS.Timeout | null = null;
  #lastStatus = "";
  #lastHistory = "";
  #statusQueued = false;

  constructor(options: LiveHubOptions) {
    this.#o = options;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Streams to this response until the page goes away or the hub closes. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    const hello = line(this.#hello());
    res.writeHead(200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.socket?.setNoDelay(true);
    if (this.#clients.size === 0) this.#subscribe();
    this.#clients.add(res);
    res.write(hello);
    const detach = () => this.#detach(res);
    req.once("close", detach);
    res.once("close", detach);
  }

  /** Ends every stream and stops listening. */
  close(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#unsubscribeAll();
  }

  #hello(): LiveMessage {
    const { engine, ticks } = this.#o;
    const now = Date.now();
    const status = engine.status();
    const history = this.#history();
    this.#lastStatus = JSON.stringify(status);
    const reports = this.#reports(history);
    this.#lastHistory = historyKey(history, reports);
    const recent = ticks ? ticks.recent(now - (this.#o.windowMs ?? 300_000)) : [];
    return {
      type: "hello",
      at: now,
      status,
      history,
      reports,
      ticks: recent.map(toLiveTick),
      intervalMs: ticks?.intervalMs ?? null,
      addresses: this.#o.addresses,
    };
  }

  #subscribe(): void {
    const { engine, ticks } = this.#o;
    this.#unsubscribe = [engine.onEvent((event) => this.#guard(() => this.#onEngine(event)))];
    if (ticks) this.#unsubscribe.push(ticks.onTick((tick) => this.#guard(() => this.#onTick(tick))));
    this.#ping = setInterval(
      () => this.#broadcast({ type: "ping", at: Date.now() }),
      this.#o.pingMs ?? 15_000,
    );
    this.#ping.unref();
  }

  #unsubscribeAll(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    if (this.#ping) clearInterval(this.#ping);
    this.#ping = null;
  }

  #detach(res: ServerResponse): void {
    if (!this.#clients.delete(res)) return;
    if (this.#clients.size === 0) this.#unsubscribeAll();
  }

  /** The engine calls listeners in line with its own work: never let the dashboard throw into it. */
  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#o.logger.error({ err: (error as Error).message }, "dashboard live update failed");
    }
  }

  #onEngine(event: EngineEvent): void {
    if (event.type === "deploy") this.#broadcast({ type: "deploy", record: event.record });
    // Several events can come in one turn (a step ends, the next starts): one status for all of them.
    if (this.#statusQueued) return;
    this.#statusQueued = true;
    setImmediate(() => {
      this.#statusQueued = false;
      this.#guard(() => this.#sendChanges());
    });
  }

  #onTick(tick: SampleTick): void {
    this.#broadcast({ type: "tick", tick: toLiveTick(tick) });
    this.#sendChanges(); // replica health, restarts and requests in flight change without engine events
  }

  #sendChanges(): void {
    if (this.#clients.size === 0) return;
    const status = this.#o.engine.status();
    const text = JSON.stringify(status);
    if (text !== this.#lastStatus) {
      this.#lastStatus = text;
      this.#broadcast({ type: "status", status });
    }
    // Reports are written after a deploy ends: look for new ones too (one small folder listing).
    const history = this.#history();
    const reports = this.#reports(history);
    const key = historyKey(history, reports);
    if (key !== this.#lastHistory) {
      this.#lastHistory = key;
      this.#broadcast({ type: "history", history, reports });
    }
  }

  #history(): readonly DeployRecord[] {
    return this.#o.engine.history().slice(-(this.#o.historyLimit ?? 50));
  }

  #reports(history: readonly DeployRecord[]): ReportIndex {
    return this.#o.reports?.index(history.map((r) => r.id)) ?? {};
  }

  #broadcast(message: LiveMessage): void {
    if (this.#clients.size === 0) return;
    const text = line(message);
    const limit = this.#o.maxQueuedBytes ?? 1_000_000;
    for (const res of this.#clients) {
      if (res.writableLength > limit) {
        this.#o.logger.warn({ queued: res.writableLength }, "a dashboard fell behind; cutting it off");
        res.destroy();
        this.#detach(res);
        continue;
      }
      res.write(text);
    }
  }
}

function line(message: LiveMessage): string {
  return `${JSON.stringify(message)}\n`;
}

function historyKey(history: readonly DeployRecord[], reports: ReportIndex): string {
  const last = history.at(-1);
  return `${history.length}:${last?.id ?? ""}:${last?.phase ?? ""}:${JSON.stringify(reports)}`;
}
