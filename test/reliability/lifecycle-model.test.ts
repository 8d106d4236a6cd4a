/**
 * Model-based test of the lifecycle rules (lifecycle.ts) as several CI runners live them (fast-check).
 * Three runner slots share one cluster (test/fakes: the in-memory platform and router, the shared-state
 * model of the Kubernetes store). Commands, in random order: `cutover deploy` on a runner (it follows the
 * deploy until it ends or waits for a person, then ends its process as the CLI does), `cutover promote` and
 * `cutover abort` from any runner, a runner killed (its lease is no longer renewed), a runner cut off from
 * the cluster and healed, and waits. Every command is a new process with its own Engine, as on Kubernetes.
 *
 * After every command, on the shared state's log and on every record every engine told, the rules as the
 * documentation states them (written out here again, independently of lifecycle.ts, and compared with it):
 *   - a takeover happened only for a deploy that waits for a person, or whose lock had expired (takeOverRule);
 *     one refused was refused for that reason;
 *   - a request was written only as askRule allows (in progress, promote only when paused, no promote over a
 *     pending abort), and only after the takeover was refused because the holder lives;
 *   - a follow ended at the first record where followEnds says, and never before;
 *   - every engine's records, and the shared state's, move only as TRANSITIONS allows;
 *   - a deploy was claimed only while no other was unfinished;
 *   - a process that lost its lock sends nothing more to the platform or the data plane, and writes no state;
 *   - a deploy's ending is written to the history once (a retry writes the same ending).
 * At the end (every runner healed, whatever is left closed by `cutover abort`): every deploy claimed is in
 * the history exactly once, ended, and traffic is on the recorded active colour, which serves its version.
 */
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { describe, it } from "vitest";
import type { AutoPromote } from "../../src/config/schema.js";
import {
  type AskRule,
  askRule,
  type DeployRecord,
  followEnds,
  type HolderAction,
  type Phase,
  type TakeOver,
  TRANSITIONS,
  takeOverRule,
} from "../../src/engine/lifecycle.js";
import { CutoverError } from "../../src/errors.js";
import { FakeCluster, type Runner } from "../fakes/fake-service.js";
import { ScriptedAnalysis } from "../fakes/scripted-ports.js";
import type { HolderRequest, SharedEvent } from "../fakes/shared-state.js";

const LEASE_MS = 60;
const SLOTS = 3;

/* ------------------------------------------------------------------------------------------------------
 * The rules, as the documentation of lifecycle.ts states them, written out again for the oracle.
 * ---------------------------------------------------------------------------------------------------- */

const SPEC_MOVES: Record<Phase, readonly Phase[]> = {
  Progressing: ["Paused", "Healthy", "Aborted"],
  Paused: ["Progressing", "Aborted"],
  Healthy: [],
  Aborted: [],
};
const ended = (r: DeployRecord) => r.phase === "Healthy" || r.phase === "Aborted";
const inProgress = (r: DeployRecord | null | undefined): r is DeployRecord => r != null && !ended(r);
/** Paused with no delay: only a person ends it. */
const forPerson = (r: DeployRecord) => r.phase === "Paused" && r.resumesAt === undefined;
/** Following stops once the deploy has ended or waits for a person. */
const stopsFollowing = (r: DeployRecord) => ended(r) || forPerson(r);

function specTakeOver(recorded: DeployRecord | null, id: string, lockAgeMs: number | null): TakeOver {
  if (!inProgress(recorded) || recorded.id !== id) return "gone";
  if (forPerson(recorded)) return "paused";
  const holderAlive = lockAgeMs !== null && lockAgeMs <= LEASE_MS;
  return holderAlive ? "held" : "abandoned";
}

function specAsk(
  recorded: DeployRecord | null,
  id: string,
  action: HolderAction,
  pending: HolderRequest | null,
): AskRule {
  if (!inProgress(recorded) || recorded.id !== id) return "nothing-to-do";
  if (action === "promote" && recorded.phase !== "Paused") return "nothing-to-do";
  if (pending?.deploy === id && pending.action === "abort" && action === "promote") return "abort-pending";
  return "ask";
}

/* ------------------------------------------------------------------------------------------------------
 * Commands.
 * ---------------------------------------------------------------------------------------------------- */

const KINDS = ["good", "slow", "bad", "unsure", "postunsure", "postfail"] as const;
type Kind = (typeof KINDS)[number];

type Command =
  | { readonly t: "deploy"; readonly slot: number; readonly kind: Kind }
  | { readonly t: "promote"; readonly slot: number }
  | { readonly t: "abort"; readonly slot: number }
  | { readonly t: "kill"; readonly slot: number }
  | { readonly t: "cut"; readonly slot: number }
  | { readonly t: "heal"; readonly slot: number }
  | { readonly t: "settle" }
  | { readonly t: "wait"; readonly ms: number };

const slot = fc.integer({ min: 0, max: SLOTS - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ t: fc.constant("deploy" as const), slot, kind: fc.constantFrom(...KINDS) }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("promote" as const), slot }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("abort" as const), slot }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("kill" as const), slot }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("cut" as const), slot }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("heal" as const), slot }) },
  { weight: 2, arbitrary: fc.constant({ t: "settle" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 3 * LEASE_MS }) }),
  },
);

const autoPromote = fc.constantFrom<AutoPromote>(
  { mode: "on" },
  { mode: "off" },
  { mode: "after", delayMs: 30 },
);

/** What a command may be refused with, besides a failure to reach the cluster (KUBERNETES_API) while cut off. */
const REFUSALS: Record<"deploy" | "promote" | "abort", readonly string[]> = {
  deploy: ["DEPLOY_IN_PROGRESS", "STATE_STALE"],
  promote: ["NOT_PAUSED", "HOLDER_GONE", "ASKED", "DEPLOY_IN_PROGRESS", "NO_ANSWER"],
  abort: ["NO_DEPLOY", "NOT_PAUSED", "HOLDER_GONE", "DEPLOY_IN_PROGRESS", "NO_ANSWER"],
};

interface Slot {
  proc: Runner | null;
  busy: Promise<void> | null;
}

interface Follow {
  readonly by: string;
  readonly id: string;
  readonly records: DeployRecord[];
  done: boolean;
}

class World {
  readonly cluster: FakeCluster;
  readonly slots: Slot[] = Array.from({ length: SLOTS }, () => ({ proc: null, busy: null }));
  readonly trace: string[] = [];
  readonly problems: string[] = [];
  readonly follows: Follow[] = [];
  /** How often each outcome of a command happened (for the summary). */
  readonly outcomes = new Map<string, number>();
  readonly #processes = new Map<string, Runner>();
  #versions = 0;
  #seen = 0;
  /** Per deploy id: the phase last written to the shared state, and the ending first written to the history. */
  readonly #written = new Map<string, Phase>();
  readonly #endings = new Map<string, { readonly ending: string; readonly by: string }>();
  readonly #claimed: string[] = [];
  readonly #lostAt = new Map<string, number>();
  readonly #askers = new Map<string, number>();
  /** Deploys written as the state's `current` with a final phase, and by which process. */

  constructor(readonly mode: AutoPromote) {
    this.cluster = new FakeCluster({
      leaseMs: LEASE_MS,
      settings: {
        replicas: 1,
        autoPromote: mode,
        readyTimeoutMs: 100,
        scaleDownDelayMs: 10,
        drainTimeoutMs: 10,
      },
      parts: { analysis: new ScriptedAnalysis() },
    });
  }

  /** A new process (a CLI run) on a runner; every record its engine tells is checked against the moves. */
  async process(label: string): Promise<Runner> {
    const runner = await this.cluster.runner(`${label}#${this.#processes.size + 1}`);
    this.#processes.set(runner.name, runner);
    const last = new Map<string, Phase>();
    runner.engine.onEvent((event) => {
      if (event.type !== "deploy") return;
      const { id, phase } = event.record;
      const before = last.get(id);
      if (before !== undefined && before !== phase && !SPEC_MOVES[before].includes(phase))
        this.problems.push(`${runner.name} told ${id} moving ${before} -> ${phase}`);
      if (before !== undefined && before !== phase && !TRANSITIONS[before].includes(phase))
        this.problems.push(
          `${runner.name} told ${id} moving ${before} -> ${phase}, which TRANSITIONS forbids`,
        );
      last.set(id, phase);
    });
    return runner;
  }

  async apply(c: Command): Promise<void> {
    const stored = this.cluster.shared.snapshot().state?.current;
    this.trace.push(`${JSON.stringify(c)} (stored: ${stored ? `${stored.id} ${stored.phase}` : "none"})`);
    switch (c.t) {
      case "deploy": {
        this.#versions += 1;
        const version = `${c.kind === "good" ? "v" : `${c.kind}-`}${this.#versions}`;
        return this.#run(c.slot, "deploy", (r) => this.#deploy(r, version));
      }
      case "promote":
        return this.#run(c.slot, "promote", (r) => this.#act(r, "promote"));
      case "abort":
        return this.#run(c.slot, "abort", (r) => this.#act(r, "abort"));
      case "kill": {
        const s = this.slots[c.slot] as Slot;
        s.proc?.store.kill();
        s.proc = null;
        s.busy = null; // never settles: the process is gone
        return;
      }
      case "cut":
        this.slots[c.slot]?.proc?.gate.partition();
        return;
      case "heal":
        this.slots[c.slot]?.proc?.gate.heal();
        return;
      case "settle":
        return this.settle();
      case "wait":
        await sleep(c.ms);
        return;
    }
  }

  /** Runs `body` in a new process on the slot, unless the slot's runner is still busy with a command. */
  async #run(index: number, what: string, body: (r: Runner) => Promise<void>): Promise<void> {
    const s = this.slots[index] as Slot;
    if (s.busy) {
      this.trace.push(`  slot ${index} busy`);
      this.#count(`${what} on a busy runner`);
      return;
    }
    const runner = await this.process(`slot${index}-${what}`);
    s.proc = runner;
    const busy: Promise<void> = body(runner)
      .catch((error: unknown) => {
        this.problems.push(`${runner.name}: unexpected ${(error as Error).stack ?? String(error)}`);
      })
      .finally(() => {
        if (s.busy !== busy) return;
        s.busy = null;
        s.proc = null;
      });
    s.busy = busy;
    // Let the command start before the next one (a CLI run takes a moment to get going).
    await Promise.race([busy, sleep(1)]);
  }

  /** `cutover deploy`: start, follow until followEnds, then end the process as EngineControl.close does. */
  async #deploy(r: Runner, version: string): Promise<void> {
    let id: string;
    try {
      id = (await r.engine.deploy(version)).record.id;
    } catch (error) {
      this.#refused(r, "deploy", error);
      return this.#exit(r);
    }
    this.trace.push(`  ${r.name} started ${id} (${version})`);
    const follow: Follow = { by: r.name, id, records: [], done: false };
    this.follows.push(follow);
    for await (const record of r.engine.follow(id)) follow.records.push(record);
    follow.done = true;
    this.trace.push(`  ${r.name} followed ${id} to ${follow.records.at(-1)?.phase}`);
    return this.#exit(r);
  }

  /** `cutover promote` or `cutover abort` in a new process. */
  async #act(r: Runner, action: HolderAction): Promise<void> {
    try {
      const record = action === "promote" ? await r.engine.promote() : await r.engine.abort();
      this.trace.push(`  ${r.name} ${action}: ${record.id} ${record.phase}`);
      this.#count(`${action} done`);
    } catch (error) {
      this.#refused(r, action, error);
    }
    return this.#exit(r);
  }

  #count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  #refused(r: Runner, what: "deploy" | "promote" | "abort", error: unknown): void {
    const code = error instanceof CutoverError ? error.code : "";
    this.#count(`${what} refused ${code}`);
    this.trace.push(`  ${r.name} ${what} refused: ${code} ${(error as Error).message.slice(0, 120)}`);
    if (code === "KUBERNETES_API" && r.gate.partitioned) return;
    if (!REFUSALS[what].includes(code))
      this.problems.push(`${r.name} ${what}: unexpected ${code}: ${(error as Error).message}`);
  }

  /** The process ends as the CLI's does: a deploy left waiting for a person is let go, anything else closed. */
  async #exit(r: Runner): Promise<void> {
    const deploy = r.engine.status().deploy;
    if (deploy && forPerson(deploy)) await r.engine.release();
    else {
      await r.engine.scaleDownsDone();
      await r.engine.close();
    }
    r.store.kill(); // nothing of it lives on
  }

  /** Until no runner is busy, or the deploy stored waits for a person (somebody must act), at most 2 s. */
  async settle(): Promise<void> {
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline) {
      const busy = this.slots.flatMap((s) => (s.busy ? [s.busy] : []));
      if (busy.length === 0) return;
      const current = this.cluster.shared.snapshot().state?.current;
      if (current && forPerson(current)) return;
      await Promise.race([...busy, this.cluster.shared.nextChange(), sleep(LEASE_MS)]);
    }
  }

  /** The rules, on everything logged since the last check. */
  check(): void {
    const { events } = this.cluster.shared;
    for (const event of events.slice(this.#seen)) this.#checkEvent(event);
    this.#seen = events.length;
    for (const follow of this.follows) {
      if (!follow.done) continue;
      const stops = follow.records.map(stopsFollowing);
      if (stops.at(-1) !== true)
        this.problems.push(`${follow.by} stopped following ${follow.id} at ${show(follow.records.at(-1))}`);
      const early = follow.records.slice(0, -1).find(stopsFollowing);
      if (early) this.problems.push(`${follow.by} followed ${follow.id} past ${show(early)}`);
      for (const record of follow.records)
        if (followEnds(record) !== stopsFollowing(record))
          this.problems.push(`followEnds(${show(record)}) is ${followEnds(record)}`);
    }
    this.follows.splice(0, this.follows.length, ...this.follows.filter((f) => !f.done));
    if (this.problems.length > 0) throw new Error(this.problems.join("\n"));
  }

  #checkEvent(event: SharedEvent): void {
    const problem = (what: string) => this.problems.push(`${event.by} ${event.type}: ${what}`);
    const lost = this.#lostAt.get(event.by);
    switch (event.type) {
      case "claim":
        if (inProgress(event.before))
          problem(`claimed ${event.id} while ${show(event.before)} was unfinished`);
        this.#claimed.push(event.id);
        return;
      case "takeover": {
        const spec = specTakeOver(event.record, event.id, event.lockAgeMs);
        const fresh = event.lockAgeMs !== null && event.lockAgeMs <= LEASE_MS;
        if (spec !== "paused" && spec !== "abandoned")
          problem(`took over ${show(event.record)} (lock ${event.lockAgeMs} ms old): the rules say ${spec}`);
        if (takeOverRule(event.record, event.id, fresh) !== spec)
          problem(`takeOverRule says ${takeOverRule(event.record, event.id, fresh)}, the rules ${spec}`);
        return;
      }
      case "takeover-refused": {
        const spec = specTakeOver(event.record, event.id, event.lockAgeMs);
        if (spec !== event.rule)
          problem(
            `refused ${event.id} as ${event.rule} (${show(event.record)}, lock ${event.lockAgeMs} ms): the rules say ${spec}`,
          );
        if (event.rule === "held") this.#askers.set(`${event.by} ${event.id}`, event.at);
        return;
      }
      case "ask": {
        const spec = specAsk(event.record, event.id, event.action, event.pending);
        if (spec !== "ask") problem(`asked ${event.action} of ${show(event.record)}: the rules say ${spec}`);
        if (askRule(event.record, event.id, event.action, event.pending) !== spec)
          problem(`askRule disagrees with the rules (${spec})`);
        if (!this.#askers.has(`${event.by} ${event.id}`))
          problem(`asked the holder of ${event.id} without a takeover refused because the holder lives`);
        return;
      }
      case "ask-refused": {
        const spec = specAsk(event.record, event.id, event.action, event.pending);
        const expected =
          spec === "nothing-to-do" ? "NOT_PAUSED" : spec === "abort-pending" ? "ASKED" : "DEPLOY_IN_PROGRESS";
        if (event.code !== expected)
          problem(`refused ${event.action} of ${show(event.record)} with ${event.code}, not ${expected}`);
        return;
      }
      case "lost":
        this.#lostAt.set(event.by, event.at);
        return;
      case "write": {
        if (lost !== undefined) problem(`wrote the state after losing its lock (${show(event.current)})`);
        const record = event.current;
        if (!record) return;
        const before = this.#written.get(record.id);
        if (before !== undefined && before !== record.phase && !SPEC_MOVES[before].includes(record.phase))
          problem(`wrote ${record.id} moving ${before} -> ${record.phase}`);
        if (before !== undefined && before !== record.phase && !TRANSITIONS[before].includes(record.phase))
          problem(`wrote ${record.id} moving ${before} -> ${record.phase}, which TRANSITIONS forbids`);
        this.#written.set(record.id, record.phase);
        return;
      }
      case "history": {
        if (lost !== undefined) problem(`wrote ${event.record.id} to the history after losing its lock`);
        if (!ended(event.record)) problem(`wrote ${show(event.record)} to the history unfinished`);
        const ending = `${event.record.phase}: ${event.record.reason ?? ""}`;
        const first = this.#endings.get(event.record.id);
        if (first !== undefined && first.ending !== ending) {
          problem(`ended ${event.record.id} twice: "${first.ending}", then "${ending}"`);
        }
        if (first === undefined) this.#endings.set(event.record.id, { ending, by: event.by });
        return;
      }
      case "request-taken":
        return;
    }
  }

  /** A process that lost its lock sends nothing more to the platform or the data plane. */
  checkLostQuiet(): void {
    for (const [name, at] of this.#lostAt) {
      const acted = this.#processes
        .get(name)
        ?.gate.sent.filter((s) => s.at > at && /^(switching|starting|stopping)/.test(s.what));
      if (acted?.length)
        this.problems.push(`${name} acted after losing its lock: ${acted.map((s) => s.what).join(", ")}`);
    }
  }

  /** Heals every runner, waits for them, closes what is left with `cutover abort`, then checks the outcome. */
  async finish(): Promise<void> {
    for (const s of this.slots) s.proc?.gate.heal();
    for (let round = 0; round < 10; round += 1) {
      await this.settle();
      const { shared } = this.cluster;
      const current = shared.snapshot().state?.current;
      const busy = this.slots.some((s) => s.busy);
      if (!inProgress(current) && !busy) break;
      if (inProgress(current) && !forPerson(current)) {
        // Held by a live runner: it ends by itself; held by a dead one: closed once the lease runs out.
        await Promise.race([shared.abandoned(), shared.until((st) => !inProgress(st.state?.current))]);
      }
      if (inProgress(shared.snapshot().state?.current)) {
        const closer = await this.process("closer");
        await this.#act(closer, "abort");
      }
    }
    this.check();
    this.checkLostQuiet();
    const { state, history, lock } = this.cluster.shared.snapshot();
    const left = this.slots.filter((s) => s.busy).length;
    if (left > 0) this.problems.push(`${left} runner(s) still busy at the end`);
    if (inProgress(state?.current))
      this.problems.push(`still in progress at the end: ${show(state?.current)}`);
    if (lock) this.problems.push(`a lock is left: ${JSON.stringify(lock)}`);
    const ids = history.map((r) => r.id);
    if (new Set(ids).size !== ids.length) this.problems.push(`the history has an id twice: ${ids.join(",")}`);
    // An ending its run wrote to the state and died before the history write is kept there, and moved to
    // the history by the next claim (recovery.ts): the last one may still wait for that.
    const keptInState = (id: string) => state?.current?.id === id && ended(state.current);
    for (const id of this.#claimed)
      if (!ids.includes(id) && keptInState(id)) this.#count("ending kept in the state");
    const missing = this.#claimed.filter((id) => !ids.includes(id) && !keptInState(id));
    if (missing.length > 0) this.problems.push(`claimed but not in the history: ${missing.join(",")}`);
    for (const record of history)
      if (!ended(record)) this.problems.push(`unfinished in the history: ${show(record)}`);
    if (state) {
      const { router, platform } = this.cluster;
      if (router.active !== state.active)
        this.problems.push(`traffic is on ${router.active}, the state says ${state.active}`);
      const live = platform.status(router.active);
      if (!live.replicas.some((r) => r.ready))
        this.problems.push(`nothing ready on the live ${router.active}`);
      if (live.version !== state.colours[router.active].version)
        this.problems.push(
          `${router.active} runs ${live.version}, the state says ${state.colours[router.active].version}`,
        );
    }
    if (this.problems.length > 0) throw new Error(this.problems.join("\n"));
  }
}

function show(record: DeployRecord | null | undefined): string {
  if (!record) return "no deploy";
  const running = record.steps.find((s) => s.state === "running")?.name;
  return `${record.id} ${record.phase}${record.resumesAt ? " (timed)" : ""}${running ? ` at ${running}` : ""}`;
}

describe("the lifecycle rules, with several runners sharing one state", () => {
  it("any sequence of deploy / promote / abort from any runner / kill / cut off / wait follows the rules", {
    timeout: 240_000,
  }, async () => {
    let runs = 0;
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        autoPromote,
        fc.array(command, { minLength: 1, maxLength: 16 }),
        async (mode, commands) => {
          runs += 1;
          const world = new World(mode);
          await world.cluster.start();
          try {
            for (const c of commands) {
              await world.apply(c);
              world.check();
            }
            await world.finish();
          } catch (error) {
            throw new Error(
              `${(error as Error).message}\nmode ${JSON.stringify(mode)}; trace:\n  ${world.trace.join("\n  ")}`,
            );
          } finally {
            await world.cluster.close();
            for (const [k, n] of world.outcomes) seen.set(k, (seen.get(k) ?? 0) + n);
            for (const event of world.cluster.shared.events) {
              const key =
                event.type === "takeover" || event.type === "takeover-refused"
                  ? `${event.type} ${event.rule}`
                  : event.type;
              seen.set(key, (seen.get(key) ?? 0) + 1);
            }
          }
        },
      ),
      { numRuns: Number(process.env.CUTOVER_LIFECYCLE_RUNS ?? 150), endOnFailure: false },
    );
    // What the runs went through, so that a change that stops them reaching a rule shows here.
    console.log(
      `lifecycle model: ${runs} runs passed; ${[...seen].map(([k, n]) => `${k}: ${n}`).join(", ")}`,
    );
  });
});
