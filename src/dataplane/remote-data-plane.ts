import type { MirrorSwitch } from "../analysis/cutover-analysis.js";
import type { Colour } from "../colour.js";
import type { Address } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import type {
  DrainResult,
  HoldResult,
  HoldState,
  RequestHold,
  SwitchResult,
} from "../engine/ports/traffic-router.js";
import type { DataPlane } from "../router/data-plane.js";
import type { DataPlaneClient } from "./dataplane-client.js";
import { type DataPlaneInfo, M, type RouterSnapshot } from "./protocol.js";

/** How often the daemon refreshes what it shows of the router (requests in flight, a hold). */
const SNAPSHOT_EVERY_MS = 1_000;

/**
 * The data plane in the data plane process, as the daemon drives it: the same DataPlane as the router in
 * this process, over the control socket. What TrafficRouter reads synchronously (the active colour, requests
 * in flight, a hold) is a mirror this side keeps: the active colour from each switch, the rest refreshed
 * every second.
 */
export class RemoteDataPlane implements DataPlane, MirrorSwitch {
  readonly requestHold: RemoteRequestHold | null;
  readonly #client: DataPlaneClient;
  readonly #info: DataPlaneInfo;
  #snapshot: RouterSnapshot;
  readonly #timer: NodeJS.Timeout;
  /** close() or detach() was called: the connection's end is ours, not a loss. */
  #leaving = false;

  constructor(client: DataPlaneClient, info: DataPlaneInfo, snapshot: RouterSnapshot) {
    this.#client = client;
    this.#info = info;
    this.#snapshot = snapshot;
    this.requestHold = info.kind === "builtin" ? new RemoteRequestHold(client, this) : null;
    this.#timer = setInterval(() => void this.refresh(), SNAPSHOT_EVERY_MS);
    this.#timer.unref();
  }

  get active(): Colour {
    return this.#snapshot.active;
  }

  get metricsContentType(): string {
    return this.#info.metricsContentType;
  }

  get snapshot(): RouterSnapshot {
    return this.#snapshot;
  }

  /** Reads the router's state again. */
  async refresh(): Promise<RouterSnapshot> {
    if (this.#client.closed) return this.#snapshot;
    try {
      this.#snapshot = await this.#client.request<RouterSnapshot>(M.snapshot);
    } catch {
      // The next tick tries again; a closed connection says so where it matters (a switch, a drain).
    }
    return this.#snapshot;
  }

  /** Calls `handler` when the connection ends without close() or detach(): the data plane process died. */
  onLost(handler: () => void): void {
    this.#client.onClose(() => {
      if (!this.#leaving) handler();
    });
  }

  /** The data plane process is started by the daemon's launcher (dataplane-launch.ts), not here. */
  async start(): Promise<void> {}

  /** Stops the replicas, the router and the data plane process. */
  async close(): Promise<void> {
    this.#leaving = true;
    clearInterval(this.#timer);
    if (!this.#client.closed) await this.#client.shutdown().catch(() => {});
  }

  /** Closes the control connection; the data plane process serves on without a daemon. */
  detach(): void {
    this.#leaving = true;
    clearInterval(this.#timer);
    this.#client.close();
  }

  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void {
    this.#client.notify(M.setEndpoints, { colour, endpoints });
  }

  inRotation(colour: Colour): readonly string[] {
    return this.#snapshot.endpoints[colour];
  }

  async switchTo(colour: Colour): Promise<SwitchResult> {
    const result = await this.#client.request<SwitchResult>(M.switchTo, { colour });
    this.#snapshot = { ...this.#snapshot, active: colour };
    return result;
  }

  drain(colour: Colour, timeoutMs: number): Promise<DrainResult> {
    return this.#client.request<DrainResult>(M.drain, { colour, timeoutMs });
  }

  inFlight(colour: Colour): number {
    return this.#snapshot.inFlight[colour];
  }

  async settled(): Promise<void> {
    await this.#client.request(M.settled);
  }

  metrics(): Promise<string> {
    return this.#client.request<string>(M.metrics);
  }

  setMirror(options: Parameters<MirrorSwitch["setMirror"]>[0]): void {
    this.#client.notify(M.setMirror, { options });
  }

  address(): Address {
    return this.#info.listen;
  }

  previewAddress(): Address | null {
    return this.#info.preview;
  }

  /** What a hold request or release returned, so that `holding()` knows at once. */
  noteHold(hold: HoldState | null): void {
    this.#snapshot = { ...this.#snapshot, hold };
  }
}

/** The built-in router's hold of new requests, in the data plane process. */
export class RemoteRequestHold implements RequestHold {
  readonly #client: DataPlaneClient;
  readonly #plane: RemoteDataPlane;
  #waiters: ((result: HoldResult | null) => void)[] = [];

  constructor(client: DataPlaneClient, plane: RemoteDataPlane) {
    this.#client = client;
    this.#plane = plane;
    // A hold that ended by its own deadline, in the data plane process.
    client.on<HoldResult>(M.holdReleased, (result) => this.#ended(result));
  }

  async hold(timeoutMs: number, reason: string): Promise<void> {
    this.#plane.noteHold(await this.#client.request<HoldState>(M.hold, { timeoutMs, reason }));
  }

  async release(): Promise<HoldResult> {
    const result = await this.#client.request<HoldResult>(M.release);
    this.#ended(result);
    return result;
  }

  quiet(colour: Colour, timeoutMs: number): Promise<boolean> {
    return this.#client.request<boolean>(M.quiet, { colour, timeoutMs });
  }

  holding(): HoldState | null {
    return this.#plane.snapshot.hold;
  }

  released(): Promise<HoldResult | null> {
    if (this.holding() === null) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #ended(result: HoldResult): void {
    this.#plane.noteHold(null);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(result);
  }
}
