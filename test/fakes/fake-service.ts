/**
 * Engines on fakes, put together as the composition root puts the real parts together: a machine (one
 * daemon: the in-memory platform and router, the crashable file store) and a cluster (one shared platform,
 * data plane and state, and as many runners as a test wants, each an Engine in a process of its own).
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineSettings } from "../../src/compose/engine-settings.js";
import { Engine } from "../../src/engine/engine.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import type { DeployAnalysis } from "../../src/engine/ports/deploy-analysis.js";
import type { DeployMigrator } from "../../src/engine/ports/deploy-migrator.js";
import { engineOptions } from "../helpers/engine-builder.js";
import { CrashableStore } from "./crashable-store.js";
import { InMemoryPlatform } from "./in-memory-platform.js";
import { InMemoryRouter } from "./in-memory-router.js";
import type { ProcessGate } from "./process-gate.js";
import { SharedState, type SharedStateStore } from "./shared-state.js";

/** Quick settings: a deploy of a good version takes a few milliseconds. */
export const FAST: Partial<EngineSettings> = {
  service: "fake",
  initialVersion: "v0",
  replicas: 2,
  readyTimeoutMs: 2_000,
  scaleDownDelayMs: 20,
  drainTimeoutMs: 20,
  autoPromote: { mode: "on" },
  smoke: [],
};

/** Nothing listens here: the preview of a machine whose smoke checks are not meant to pass. */
const NOWHERE = { host: "127.0.0.1", port: 9 };

export interface MachineParts {
  readonly migrator?: DeployMigrator | null;
  readonly analysis?: DeployAnalysis | null;
}

/** One machine running the daemon: what `cutover up` builds, with fakes. */
export interface Machine {
  readonly dir: string;
  readonly engine: Engine;
  readonly platform: InMemoryPlatform;
  readonly router: InMemoryRouter;
  readonly store: CrashableStore;
}

/** A state folder; in memory (tmpfs) where the machine has one, so that the store's fsyncs cost nothing. */
export function stateDir(): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtempSync(join(base, "cutover-fakes-"));
}

/** `cutover up` on `dir`: a router, a platform, an engine on the state folder, the live colour serving. */
export async function bootMachine(
  dir: string,
  settings: Partial<EngineSettings> = {},
  parts: MachineParts = {},
): Promise<Machine> {
  const router = new InMemoryRouter("blue");
  const platform = new InMemoryPlatform();
  platform.onEndpoints((colour, endpoints) => router.setEndpoints(colour, endpoints));
  const store = new CrashableStore(dir);
  const engine = await Engine.open(
    engineOptions(null, { preview: NOWHERE, platform, router, store, ...parts }, { ...FAST, ...settings }),
  );
  await engine.up();
  return { dir, engine, platform, router, store };
}

/** kill -9 of the daemon: its store and platform stop answering, its replicas and requests are gone. */
export async function crashMachine(machine: Machine): Promise<void> {
  machine.store.freeze();
  machine.platform.freeze();
  await machine.router.close();
}

export async function closeMachine(machine: Machine): Promise<void> {
  await machine.engine.close();
  await machine.platform.close();
  await machine.router.close();
}

/** One CI runner: an engine in a process of its own, on the cluster's shared parts. */
export interface Runner {
  readonly name: string;
  readonly engine: Engine;
  readonly store: SharedStateStore;
  readonly gate: ProcessGate;
}

/**
 * A cluster several runners share: one platform (the Deployments), one data plane (the Service selector),
 * one state (the Service's annotations and the history ConfigMap).
 */
export class FakeCluster {
  readonly platform = new InMemoryPlatform();
  readonly router = new InMemoryRouter("blue");
  readonly shared: SharedState;
  readonly #settings: Partial<EngineSettings>;
  readonly #parts: MachineParts;
  readonly #runners: Runner[] = [];

  constructor(options: {
    leaseMs: number;
    settings?: Partial<EngineSettings>;
    parts?: MachineParts;
  }) {
    this.shared = new SharedState({
      leaseMs: options.leaseMs,
      liveActive: () => this.router.active,
    });
    this.#settings = { ...FAST, ...options.settings };
    this.#parts = options.parts ?? {};
    this.platform.onEndpoints((colour, endpoints) => this.router.setEndpoints(colour, endpoints));
  }

  /** What `kubectl apply` of the rendered manifests does: the first version runs on blue, selected. */
  async start(version = "v0"): Promise<void> {
    const replicas = this.#settings.replicas ?? 1;
    await this.platform.start("blue", version, replicas);
    await this.platform.waitReady("blue", { timeoutMs: 2_000 });
  }

  /** A new process on a runner: it reads the shared state as it is now. */
  async runner(name?: string, settings: Partial<EngineSettings> = {}): Promise<Runner> {
    const store = this.shared.process(name);
    const { gate } = store;
    const engine = await Engine.open(
      engineOptions(
        null,
        {
          preview: NOWHERE,
          platform: gate.platform(this.platform),
          router: gate.router(this.router),
          store,
          ...this.#parts,
        },
        { ...this.#settings, ...settings },
      ),
    );
    const runner = { name: store.name, engine, store, gate };
    this.#runners.push(runner);
    return runner;
  }

  /** Ends every runner still alive (their engines closed), then the replicas and the data plane. */
  async close(): Promise<void> {
    for (const runner of this.#runners) {
      if (runner.gate.dead) continue;
      runner.gate.heal();
      await runner.engine.close().catch(() => {});
    }
    for (const runner of this.#runners) runner.store.kill();
    await this.platform.close();
    await this.router.close();
  }
}

/** Resolves with the first record of a deploy (the one in progress now, or a later one) that `wanted` accepts. */
export function recordOf(
  engine: Engine,
  wanted: (record: DeployRecord) => boolean,
  what = "the record wanted",
  timeoutMs = 5_000,
): Promise<DeployRecord> {
  const now = engine.status().deploy;
  if (now && wanted(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(engine.status().deploy)}`));
    }, timeoutMs);
    const stop = engine.onEvent((event) => {
      if (event.type !== "deploy" || !wanted(event.record)) return;
      clearTimeout(timer);
      stop();
      resolve(event.record);
    });
  });
}

/** Every record `engine` tells about, in order, from now on. */
export function recordsOf(engine: Engine): DeployRecord[] {
  const seen: DeployRecord[] = [];
  engine.onEvent((event) => {
    if (event.type === "deploy") seen.push(event.record);
  });
  return seen;
}

/**
 * The order in which the steps moved, from the records as they were told: "name:state" each time a step's
 * state changed (a step run twice, or run after a later one, shows here).
 */
export function stepMoves(records: readonly DeployRecord[]): string[] {
  const moves: string[] = [];
  const last = new Map<string, string>();
  for (const record of records) {
    for (const step of record.steps) {
      if (last.get(step.name) === step.state) continue;
      last.set(step.name, step.state);
      if (step.state !== "pending") moves.push(`${step.name}:${step.state}`);
    }
  }
  return moves;
}
