/**
 * One process's way out to what it shares with other processes (the cluster: its platform, its data plane,
 * its state). kill() is the process dying: nothing it asked for ever completes, including calls already
 * under way, and it asks nothing more (a kill -9'd CI runner). partition() is the process cut off from the
 * cluster while it lives: every call fails at once, as an API call to an unreachable server does, until
 * heal(). The platform and router seen through a gate are the shared ones: what one process changes, every
 * other sees (as every runner sees the same Deployments and the same Service selector).
 *
 * Reads of local, synchronous views (status(), inFlight(), active) pass through: they are what the process
 * last learned, and a dead process reads nothing anyway.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Colour } from "../../src/colour.js";
import type { ColourStatus, Endpoint, Platform, WaitReadyOptions } from "../../src/engine/ports/platform.js";
import type {
  DrainResult,
  RequestHold,
  SwitchResult,
  TrafficRouter,
} from "../../src/engine/ports/traffic-router.js";
import { CutoverError } from "../../src/errors.js";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

export class ProcessGate {
  readonly name: string;
  /** Every call this process sent out (what it did to the cluster), in order, with Date.now(). */
  readonly sent: Array<{ readonly what: string; readonly at: number }> = [];
  #dead = false;
  #cut = false;

  constructor(name: string) {
    this.name = name;
  }

  get dead(): boolean {
    return this.#dead;
  }

  get partitioned(): boolean {
    return this.#cut;
  }

  kill(): void {
    this.#dead = true;
  }

  partition(): void {
    this.#cut = true;
  }

  heal(): void {
    this.#cut = false;
  }

  /** A call under way: its answer (or its failure) never arrives once the process is dead. */
  async guard<T>(work: Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await work;
    } catch (error) {
      if (this.#dead) return never();
      throw error;
    }
    if (this.#dead) return never();
    return value;
  }

  /**
   * Runs `call` through the gate: it never leaves a dead process, fails at once in a cut-off one, and
   * otherwise lets other processes run first (a round trip), then answers unless the process died meanwhile.
   */
  async call<T>(what: string, call: () => Promise<T> | T): Promise<T> {
    await this.#leave(what);
    await nextTurn();
    await this.#leave(what);
    this.sent.push({ what, at: Date.now() });
    return this.guard(Promise.resolve().then(call));
  }

  #leave(what: string): Promise<void> {
    if (this.#dead) return never();
    if (this.#cut)
      return Promise.reject(
        new CutoverError("KUBERNETES_API", `${what}: ${this.name} cannot reach the cluster`),
      );
    return Promise.resolve();
  }

  /** The shared platform, as this process reaches it. */
  platform(shared: Platform): Platform {
    return new GatedPlatform(shared, this);
  }

  /** The shared data plane, as this process reaches it. */
  router(shared: TrafficRouter): TrafficRouter {
    return new GatedRouter(shared, this);
  }
}

class GatedPlatform implements Platform {
  constructor(
    readonly shared: Platform,
    readonly gate: ProcessGate,
  ) {}

  start(colour: Colour, version: string, replicas: number, env?: Readonly<Record<string, string>>) {
    return this.gate.call(`starting ${colour}`, () => this.shared.start(colour, version, replicas, env));
  }

  waitReady(colour: Colour, options: WaitReadyOptions): Promise<void> {
    return this.gate.call(`waiting for ${colour}`, () => this.shared.waitReady(colour, options));
  }

  stop(colour: Colour): Promise<void> {
    return this.gate.call(`stopping ${colour}`, () => this.shared.stop(colour));
  }

  status(colour: Colour): ColourStatus {
    return this.shared.status(colour);
  }

  onEndpoints(listener: (colour: Colour, endpoints: readonly Endpoint[]) => void): () => void {
    return this.shared.onEndpoints(listener);
  }

  /** One process going away does not stop the cluster's replicas. */
  async close(): Promise<void> {}
}

class GatedRouter implements TrafficRouter {
  constructor(
    readonly shared: TrafficRouter,
    readonly gate: ProcessGate,
  ) {}

  get active(): Colour {
    return this.shared.active;
  }

  /** The shared data plane's hold, not gated: no test holds requests through a process that may die. */
  get requestHold(): RequestHold | null {
    return this.shared.requestHold;
  }

  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void {
    if (!this.gate.dead) this.shared.setEndpoints(colour, endpoints);
  }

  switchTo(colour: Colour): SwitchResult | Promise<SwitchResult> {
    if (!this.gate.dead && !this.gate.partitioned) {
      this.gate.sent.push({ what: `switching to ${colour}`, at: Date.now() });
      return this.shared.switchTo(colour);
    }
    return this.gate.call(`switching to ${colour}`, () => this.shared.switchTo(colour));
  }

  drain(colour: Colour, timeoutMs: number): Promise<DrainResult> {
    return this.gate.dead ? never() : this.gate.guard(this.shared.drain(colour, timeoutMs));
  }

  inFlight(colour: Colour): number {
    return this.shared.inFlight(colour);
  }

  settled(): Promise<void> {
    return this.gate.dead ? never() : this.gate.guard(this.shared.settled?.() ?? Promise.resolve());
  }
}
