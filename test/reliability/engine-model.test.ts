/**
 * Model-based test of the deploy engine's state machine (fast-check): random sequences of deploy, promote,
 * abort, rollback, waits and crashes drive a REAL Engine with the REAL Router and the REAL file state store.
 * Replicas come from InMemoryPlatform (in-process HTTP servers, not child processes) so that a hundred runs
 * fit in seconds; see test/fakes/in-memory-platform.ts for how it keeps the Platform interface's behaviour.
 * A crash freezes the engine's platform and store (a dead process does nothing more), closes its router, and
 * opens a new Engine on the same state folder, as `cutover up` after kill -9 does. State folders are in
 * memory (tmpfs) where the machine has one.
 *
 * After every command: when nothing runs, the live colour has a healthy replica and the router really serves
 * it with its recorded version. At the end: every id handed out is in the history exactly once with a final
 * phase, and the history and state on disk agree with the engine, also after one more restart.
 */

import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { AutoPromote } from "../../src/config/schema.js";
import { Engine } from "../../src/engine/engine.js";
import { FileStateStore } from "../../src/engine/file-state-store.js";
import { isFinal } from "../../src/engine/lifecycle.js";
import { type CutoverError, DeployInProgressError } from "../../src/errors.js";
import { Router } from "../../src/router/router.js";
import { CrashableStore } from "../fakes/crashable-store.js";
import { stateDir } from "../fakes/fake-service.js";
import { InMemoryPlatform } from "../fakes/in-memory-platform.js";
import { engineOptions } from "../helpers/engine-builder.js";

type Command =
  | { readonly t: "deploy"; readonly kind: "good" | "slow" | "bad" }
  | { readonly t: "rollback" }
  | { readonly t: "promote" }
  | { readonly t: "abort" }
  | { readonly t: "settle" }
  | { readonly t: "wait"; readonly ms: number }
  | { readonly t: "crash"; readonly writes: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant("deploy" as const), kind: fc.constantFrom("good", "slow", "bad") }),
  },
  { weight: 3, arbitrary: fc.constant({ t: "rollback" as const }) },
  { weight: 2, arbitrary: fc.constant({ t: "promote" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "abort" as const }) },
  { weight: 2, arbitrary: fc.constant({ t: "settle" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 50 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("crash" as const), writes: fc.integer({ min: 0, max: 8 }) }),
  },
);

const autoPromote: fc.Arbitrary<AutoPromote> = fc.constantFrom<AutoPromote>(
  { mode: "on" },
  { mode: "off" },
  { mode: "after", delayMs: 20 },
);

interface Parts {
  readonly engine: Engine;
  readonly router: Router;
  readonly platform: InMemoryPlatform;
  readonly store: CrashableStore;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What `cutover up` does: a router, a platform, an engine on the state folder, the live colour started. */
async function boot(dir: string, mode: AutoPromote): Promise<Parts> {
  const router = new Router({
    listen: { host: "127.0.0.1", port: 0 },
    preview: null,
    sticky: false,
    initialActive: "blue",
  });
  await router.start();
  const platform = new InMemoryPlatform();
  platform.onEndpoints((colour, endpoints) => router.setEndpoints(colour, endpoints));
  const store = new CrashableStore(dir);
  const engine = await Engine.open(
    engineOptions(
      null,
      { preview: { host: "127.0.0.1", port: 9 }, platform, router, store },
      {
        service: "model",
        initialVersion: "v0",
        replicas: 2,
        readyTimeoutMs: 60,
        scaleDownDelayMs: 30,
        drainTimeoutMs: 15,
        autoPromote: mode,
        smoke: [],
      },
    ),
  );
  await engine.up();
  return { engine, router, platform, store };
}

/** kill -9: the store and the platform stop (after `writes` more writes, if a step is writing), the router's sockets close. */
async function crash(parts: Parts, writes: number): Promise<void> {
  if (parts.engine.status().deploy) await Promise.race([parts.store.freezeAfter(writes), sleep(150)]);
  parts.store.freeze();
  parts.platform.freeze();
  await parts.router.close();
}

class Run {
  parts!: Parts;
  readonly issued: string[] = [];
  readonly trace: string[] = [];
  #versions = 0;

  constructor(
    readonly dir: string,
    readonly mode: AutoPromote,
  ) {}

  async start(): Promise<void> {
    this.parts = await boot(this.dir, this.mode);
  }

  async apply(c: Command): Promise<void> {
    const { engine } = this.parts;
    const busy = engine.status().deploy;
    this.trace.push(`${JSON.stringify(c)} (busy: ${busy ? `${busy.id} ${busy.phase}` : "no"})`);
    switch (c.t) {
      case "deploy":
      case "rollback": {
        const other = engine.status().colours[engine.active === "blue" ? "green" : "blue"];
        try {
          this.#versions += 1;
          const started =
            c.t === "deploy" ? await engine.deploy(`${c.kind}-${this.#versions}`) : await engine.rollback();
          expect(busy, "a second operation was let in").toBeNull();
          expect(this.issued, `id ${started.record.id} handed out twice`).not.toContain(started.record.id);
          this.issued.push(started.record.id);
          started.done.catch(() => undefined);
        } catch (error) {
          const code = (error as CutoverError).code;
          // While one runs, a rollback may also be refused because its colour has no version yet.
          if (busy) expect(["DEPLOY_IN_PROGRESS", "NOTHING_TO_ROLL_BACK"]).toContain(code);
          if (busy && c.t === "deploy") expect(error).toBeInstanceOf(DeployInProgressError);
          if (!busy) {
            expect(c.t).toBe("rollback");
            expect((error as CutoverError).code).toBe("NOTHING_TO_ROLL_BACK");
            expect(other.recordedVersion).toBeNull();
          }
        }
        return;
      }
      case "promote":
        if (busy?.phase === "Paused") expect(isFinal((await engine.promote()).phase)).toBe(true);
        else await expect(engine.promote()).rejects.toMatchObject({ code: "NOT_PAUSED" });
        return;
      case "abort":
        if (busy) expect(isFinal((await engine.abort()).phase)).toBe(true);
        else await expect(engine.abort()).rejects.toMatchObject({ code: "NO_DEPLOY" });
        return;
      case "settle":
        await this.settle();
        return;
      case "wait":
        await sleep(c.ms);
        return;
      case "crash":
        await crash(this.parts, c.writes);
        this.parts = await boot(this.dir, this.mode);
        return;
    }
  }

  /** Waits until nothing runs or the operation in progress pauses. */
  async settle(): Promise<void> {
    for (let i = 0; i < 200; i += 1) {
      const deploy = this.parts.engine.status().deploy;
      if (deploy === null || deploy.phase === "Paused") return;
      await sleep(5);
    }
    throw new Error(`still running after 1 s: ${JSON.stringify(this.parts.engine.status().deploy)}`);
  }

  /** When nothing runs: the live colour has a ready replica, and the router serves it with its version. */
  async checkServing(): Promise<void> {
    const { engine, router } = this.parts;
    if (engine.status().deploy !== null) return;
    const status = engine.status();
    expect(status.health, `live ${status.active} has no ready replica`).toBe("Healthy");
    expect(router.active).toBe(engine.active);
    const { host, port } = router.address();
    const answer = await fetch(`http://${host}:${port}/`);
    await answer.arrayBuffer();
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-cutover-colour")).toBe(status.active);
    expect(answer.headers.get("x-app-version")).toBe(status.colours[status.active].recordedVersion);
  }

  /** Ends what runs, then checks the history and the files, before and after one more restart. */
  async finish(): Promise<void> {
    await this.settle();
    if (this.parts.engine.status().deploy?.phase === "Paused") await this.parts.engine.abort();
    await this.checkConsistent();
    await crash(this.parts, 0);
    this.parts = await boot(this.dir, this.mode);
    await this.checkConsistent();
    await this.parts.engine.close();
    await this.parts.platform.close();
    await this.parts.router.close();
  }

  async checkConsistent(): Promise<void> {
    const { engine } = this.parts;
    await this.checkServing();
    const ids = engine.history().map((r) => r.id);
    expect(new Set(ids).size, `duplicate ids in ${ids.join(",")}`).toBe(ids.length);
    expect([...ids].sort(), "every id handed out is in the history once").toEqual([...this.issued].sort());
    expect(engine.history().every((r) => isFinal(r.phase))).toBe(true);
    const disk = new FileStateStore(this.dir);
    expect((await disk.loadHistory()).map((r) => r.id)).toEqual(ids);
    const state = await disk.loadState();
    expect(state?.active).toBe(engine.active);
    expect(state?.current).toBeNull();
    expect(state?.deploys).toBe(this.issued.length);
  }
}

describe("the engine's state machine, model-based", () => {
  it("keeps the record of an operation when the daemon dies as it writes the history", async () => {
    const dir = stateDir();
    dirs.push(dir);
    const run = new Run(dir, { mode: "on" });
    await run.start();
    const frozen = run.parts.store.freezeAtHistoryWrite();
    await run.apply({ t: "deploy", kind: "good" });
    await frozen;
    await crash(run.parts, 0);
    run.parts = await boot(dir, run.mode);
    const history = run.parts.engine.history();
    expect(history.map((r) => r.id)).toEqual(["d1"]);
    // The switch was on disk before the history write: the record says where traffic is.
    expect(history[0]?.reason ?? "").toMatch(/traffic is on green/);
    await run.finish();
  });

  it("any sequence of deploy / promote / abort / rollback / crash keeps one live healthy colour and a true history", {
    timeout: 240_000,
  }, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        autoPromote,
        fc.array(command, { minLength: 1, maxLength: 14 }),
        async (mode, commands) => {
          runs += 1;
          const dir = stateDir();
          dirs.push(dir);
          const run = new Run(dir, mode);
          await run.start();
          try {
            for (const c of commands) {
              await run.apply(c);
              await run.checkServing();
            }
            await run.finish();
          } catch (error) {
            throw new Error(
              `${(error as Error).message}\nmode ${JSON.stringify(mode)}; trace:\n  ${run.trace.join("\n  ")}`,
            );
          }
        },
      ),
      { numRuns: Number(process.env.CUTOVER_MODEL_RUNS ?? 100), endOnFailure: false },
    );
    console.log(`engine model: ${runs} runs passed`);
  });
});
