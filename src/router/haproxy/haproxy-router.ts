import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, pino } from "pino";
import { COLOURS, type Colour, otherColour } from "../../colour.js";
import type { Address } from "../../config/schema.js";
import type { Endpoint } from "../../engine/ports/platform.js";
import type { DrainResult, SwitchResult, TrafficRouter } from "../../engine/ports/traffic-router.js";
import { RouterNotListeningError } from "../router.js";
import { DEFAULT_HAPROXY_TIMEOUTS, type HaproxyTimeouts } from "./haproxy-config.js";
import { attachHaproxy, type HaproxyInstance, type HaproxySource, startHaproxy } from "./haproxy-instance.js";
import { haproxyMetricsText, PROMETHEUS_TEXT } from "./haproxy-metrics-text.js";
import { BACKEND_ROLES, HaproxyNames, MAP_KEYS } from "./haproxy-names.js";
import type { ServerState } from "./haproxy-runtime.js";
import { type ColourStats, type HaproxyStats, STATUS_CLASSES } from "./haproxy-stats.js";
import { SlotTable } from "./slot-table.js";

export interface HaproxyRouterOptions {
  /** Users' traffic; port 0 picks a free port (only when cutover starts HAProxy). */
  readonly listen: Address;
  /** The idle colour's listener; null for none. */
  readonly preview: Address | null;
  /** The colour served when cutover starts HAProxy; an attached HAProxy keeps the colour it serves. */
  readonly initialActive: Colour;
  readonly sticky: boolean;
  /** Server slots per colour: the most replicas in rotation at once, plus room to replace them all. */
  readonly slots: number;
  readonly haproxy: HaproxySource;
  /** Names of cutover's frontends, backends and map in HAProxy. Default "cutover". */
  readonly prefix?: string;
  readonly timeouts?: Partial<HaproxyTimeouts>;
  readonly logger?: Logger;
  /** How often a drain reads `show stat`. Default 25 ms. */
  readonly drainPollMs?: number;
}

/** One drain while it waits; `superseded` when its colour became active again or another drain took over. */
interface DrainRun {
  superseded: boolean;
}

const STALE_MS = 100;
const REFRESH_MS = 1_000;
const EMPTY_COLOUR: ColourStats = {
  inFlight: 0,
  liveInFlight: 0,
  responses: Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as ColourStats["responses"],
  upstreamErrors: 0,
  averageTotalMs: 0,
  slots: [],
};

/**
 * HAProxy as cutover's data plane. cutover writes HAProxy's config once (or attaches to a HAProxy running
 * it); from then on it switches colours (`set map`), puts replicas in and out of rotation (`set server`
 * addr/state) and drains (`set server state drain`, then `show stat` until no session is left) only
 * through the runtime API, never by a reload. Each request reads the colour map once, when it arrives,
 * and stays on that colour until it ends. Changes are applied one at a time, in the order they were asked.
 */
export class HaproxyRouter implements TrafficRouter {
  /**
   * HAProxy cannot hold requests the way RequestHold promises (checked against HAProxy 2.6, the Debian 12
   * package; management.txt and configuration.txt):
   * - A backend queue (servers' maxconn, `timeout queue`) holds a request only after `use_backend` has read
   *   the colour map: a queued request belongs to the colour that was active when it arrived and cannot
   *   move, so the release would send it to the old colour. (`maxconn 0` on a server means no limit.)
   * - `set maxconn frontend <fe> 0` stops accepting new connections (they wait in the kernel's backlog),
   *   but requests on connections already open (keep-alive) go on to the active colour at once; a client
   *   that gives up is still forwarded once accepted; beyond the backlog connections are dropped, not
   *   answered 503; and nothing releases the hold if cutover dies.
   * - A Lua action before `use_backend` can wait (core.msleep) and then route by the map of the moment,
   *   but it polls, releases out of arrival order, and forwards a request whose client went away while it
   *   waited (even with `option abortonclose`), all tried on 2.6.12.
   * So this data plane says it cannot hold: `cutover pause` refuses with HOLD_UNSUPPORTED.
   */
  readonly requestHold = null;
  readonly #o: HaproxyRouterOptions;
  readonly #log: Logger;
  readonly #names: HaproxyNames;
  readonly #wanted: Record<Colour, readonly Endpoint[] | null> = { blue: null, green: null };
  /** What setEndpoints last asked for, by colour. */
  readonly #rotation: Record<Colour, readonly string[]> = { blue: [], green: [] };
  readonly #draining: Record<Colour, DrainRun | null> = { blue: null, green: null };
  #tables: Readonly<Record<Colour, SlotTable>> | null = null;
  #instance: HaproxyInstance | null = null;
  #active: Colour;
  #activeChosen = false;
  #switches = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #failure: Error | null = null;
  #stats: HaproxyStats = { blue: EMPTY_COLOUR, green: EMPTY_COLOUR };
  #statsAt = 0;
  #refreshing: Promise<HaproxyStats> | null = null;
  #refresher: NodeJS.Timeout | null = null;

  constructor(options: HaproxyRouterOptions) {
    this.#o = options;
    this.#names = new HaproxyNames(options.prefix ?? "cutover");
    this.#active = options.initialActive;
    this.#log = (options.logger ?? pino({ enabled: false })).child({
      component: "router",
      dataPlane: "haproxy",
    });
  }

  get active(): Colour {
    return this.#active;
  }

  get metricsContentType(): string {
    return PROMETHEUS_TEXT;
  }

  /** HAProxy's pid when cutover started it; null when attached or not started. */
  get pid(): number | null {
    return this.#instance?.process?.pid ?? null;
  }

  /** Queues the change; `settled()` resolves once HAProxy has it. */
  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void {
    this.#wanted[colour] = endpoints;
    this.#rotation[colour] = endpoints.map((endpoint) => endpoint.id);
    void this.#enqueue(() => this.#applyEndpoints(colour)).catch((error: unknown) => this.#remember(error));
  }

  inRotation(colour: Colour): readonly string[] {
    return this.#rotation[colour];
  }

  /** Resolves once every change asked for so far is in HAProxy; rejects with the first that failed since the last call. */
  async settled(): Promise<void> {
    await this.#queue.catch(() => {});
    const failure = this.#failure;
    this.#failure = null;
    if (failure) throw failure;
  }

  switchTo(colour: Colour): Promise<SwitchResult> {
    return this.#enqueue(() => this.#switch(colour));
  }

  async drain(colour: Colour, timeoutMs: number): Promise<DrainResult> {
    if (colour === this.#active || this.#instance === null) return { completed: 0, cancelled: 0 };
    const run: DrainRun = { superseded: false };
    const previous = this.#draining[colour];
    if (previous) previous.superseded = true;
    this.#draining[colour] = run;
    const deadline = Date.now() + timeoutMs;
    await this.#enqueue(() => this.#setLiveState(colour, "drain"));
    const first = (await this.#readStats(true))[colour].liveInFlight;
    let left = first;
    while (left > 0 && !run.superseded && Date.now() < deadline) {
      await sleep(Math.min(this.#o.drainPollMs ?? 25, Math.max(1, deadline - Date.now())));
      left = (await this.#readStats(true))[colour].liveInFlight;
    }
    let cancelled = 0;
    if (left > 0 && !run.superseded) {
      await this.#enqueue(async () => {
        // A switch back to this colour (a rollback) may have been queued since the loop ended: the cut is
        // for a colour that is still idle, never for the live one's requests.
        if (run.superseded || this.#active === colour) return;
        cancelled = left;
        await this.#shutdownSessions(colour);
      });
    }
    if (this.#draining[colour] === run) {
      this.#draining[colour] = null;
      await this.#enqueue(() => this.#setLiveState(colour, "ready"));
    }
    const result = { completed: Math.max(0, first - left), cancelled };
    this.#log.info(
      { event: "drain", colour, timeoutMs, superseded: run.superseded, ...result },
      `drained ${colour}`,
    );
    return result;
  }

  /** Requests and WebSockets in flight, from the last `show stat` (at most about 100 ms old while asked often). */
  inFlight(colour: Colour): number {
    if (Date.now() - this.#statsAt > STALE_MS) this.#refreshQuietly();
    return this.#stats[colour].inFlight;
  }

  /** Per-colour counters, read from HAProxy now. */
  stats(): Promise<HaproxyStats> {
    return this.#readStats(true);
  }

  /** Per-colour counters in the Prometheus text format, under the built-in router's metric names. */
  async metrics(): Promise<string> {
    const stats = await this.#readStats(true);
    return haproxyMetricsText({ stats, active: this.#active, switches: this.#switches });
  }

  /** Starts HAProxy (or attaches to the running one), then puts the replicas asked for so far in rotation. */
  async start(): Promise<void> {
    const settings = {
      names: this.#names,
      listen: this.#o.listen,
      preview: this.#o.preview,
      slots: this.#o.slots,
      sticky: this.#o.sticky,
      active: this.#active,
      timeouts: { ...DEFAULT_HAPROXY_TIMEOUTS, ...this.#o.timeouts },
    };
    const source = this.#o.haproxy;
    const instance =
      source.kind === "start" ? await startHaproxy(source, settings) : await attachHaproxy(source, settings);
    this.#instance = instance;
    this.#tables = slotTables(instance);
    void instance.process?.exited.then((how) => {
      if (this.#instance === instance) this.#log.error({ event: "haproxy-exited", how }, `HAProxy ${how}`);
    });
    const wanted = this.#activeChosen ? this.#active : instance.active;
    this.#active = instance.active;
    try {
      for (const colour of COLOURS) {
        const endpoints = this.#wanted[colour];
        if (endpoints !== null) this.setEndpoints(colour, endpoints);
      }
      if (wanted !== instance.active) await this.switchTo(wanted);
      await this.settled();
    } catch (error) {
      this.#instance = null;
      await instance.process?.stop();
      throw error;
    }
    this.#refresher = setInterval(() => this.#refreshQuietly(), REFRESH_MS).unref();
    this.#log.info(
      {
        event: "listening",
        listen: instance.listen,
        preview: instance.preview,
        active: this.#active,
        pid: instance.process?.pid ?? null,
        mode: source.kind,
      },
      "HAProxy data plane ready",
    );
  }

  /**
   * Stops the HAProxy cutover started (closing every connection). An attached HAProxy is left running as
   * it is, serving the colour it serves.
   */
  async close(): Promise<void> {
    if (this.#refresher) clearInterval(this.#refresher);
    this.#refresher = null;
    for (const colour of COLOURS) {
      const run = this.#draining[colour];
      if (run) run.superseded = true;
    }
    await this.#queue.catch(() => {});
    const instance = this.#instance;
    this.#instance = null;
    await instance?.process?.stop();
  }

  address(): Address {
    if (this.#instance === null) throw new RouterNotListeningError();
    return this.#instance.listen;
  }

  previewAddress(): Address | null {
    if (this.#instance === null) throw new RouterNotListeningError();
    return this.#instance.preview;
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#queue.catch(() => {}).then(job);
    this.#queue = result;
    return result;
  }

  #remember(error: unknown): void {
    this.#failure ??= error as Error;
    this.#log.error({ err: (error as Error).message }, "HAProxy change failed");
  }

  async #switch(colour: Colour): Promise<SwitchResult> {
    const from = this.#active;
    const instance = this.#instance;
    if (instance === null) {
      this.#active = colour;
      this.#activeChosen = true;
      return { from, to: colour, at: Date.now() };
    }
    if (from === colour) return { from, to: colour, at: Date.now() };
    const run = this.#draining[colour];
    if (run) {
      run.superseded = true;
      this.#draining[colour] = null;
      await this.#setLiveState(colour, "ready");
    }
    await instance.runtime.setMap(instance.mapPath, MAP_KEYS.live, colour);
    const at = Date.now();
    this.#active = colour;
    this.#switches++;
    await instance.runtime.setMap(instance.mapPath, MAP_KEYS.preview, otherColour(colour));
    this.#log.info({ event: "switch", from, to: colour }, `switched ${from} -> ${colour}`);
    return { from, to: colour, at };
  }

  async #applyEndpoints(colour: Colour): Promise<void> {
    const wanted = this.#wanted[colour];
    const instance = this.#instance;
    const table = this.#tables?.[colour];
    if (wanted === null || instance === null || table === undefined) return;
    this.#wanted[colour] = null;
    const plan = table.plan(wanted);
    const { runtime } = instance;
    for (const { slot, host, port, readdress } of plan.assign) {
      for (const role of this.#roles()) {
        if (readdress) await runtime.setAddress(role, colour, slot, host, port);
        await runtime.setState(role, colour, slot, role === "live" ? this.#liveState(colour) : "ready");
      }
    }
    for (const slot of plan.release) {
      for (const role of this.#roles()) await runtime.setState(role, colour, slot, "maint");
    }
    if (plan.assign.length > 0 || plan.release.length > 0) {
      this.#log.info(
        { event: "endpoints", colour, endpoints: wanted.map((e) => e.id), slots: table.inRotation() },
        "replicas in rotation",
      );
    }
  }

  #liveState(colour: Colour): ServerState {
    return this.#draining[colour] === null ? "ready" : "drain";
  }

  async #setLiveState(colour: Colour, state: ServerState): Promise<void> {
    const instance = this.#instance;
    if (instance === null) return;
    for (const slot of this.#tables?.[colour].inRotation() ?? []) {
      await instance.runtime.setState("live", colour, slot, state);
    }
  }

  async #shutdownSessions(colour: Colour): Promise<void> {
    const instance = this.#instance;
    if (instance === null) return;
    const stats = await instance.runtime.stats();
    for (const slot of stats[colour].slots) {
      if (slot.role === "live" && slot.current > 0)
        await instance.runtime.shutdownSessions("live", colour, slot.slot);
    }
  }

  #roles() {
    return this.#instance?.preview === null ? (["live"] as const) : BACKEND_ROLES;
  }

  /** The stats from HAProxy; a read already under way is shared unless `fresh` asks for one started now. */
  #readStats(fresh = false): Promise<HaproxyStats> {
    const instance = this.#instance;
    if (instance === null) return Promise.resolve(this.#stats);
    if (this.#refreshing && !fresh) return this.#refreshing;
    const reading = instance.runtime.stats().then((stats) => {
      this.#stats = stats;
      this.#statsAt = Date.now();
      return stats;
    });
    const shared = reading.finally(() => {
      if (this.#refreshing === shared) this.#refreshing = null;
    });
    this.#refreshing = shared;
    return shared;
  }

  #refreshQuietly(): void {
    this.#readStats().catch((error: unknown) =>
      this.#log.warn({ err: (error as Error).message }, "show stat failed"),
    );
  }
}

/** Slot tables sized for the instance, holding what an attached HAProxy had in rotation already. */
function slotTables(instance: HaproxyInstance): Readonly<Record<Colour, SlotTable>> {
  const tables = {
    blue: new SlotTable("blue", instance.slots),
    green: new SlotTable("green", instance.slots),
  };
  for (const colour of COLOURS) {
    for (const slot of instance.existing[colour]) {
      tables[colour].adopt(slot.slot, slot.address, slot.status !== "MAINT" && slot.address !== "");
    }
  }
  return tables;
}
