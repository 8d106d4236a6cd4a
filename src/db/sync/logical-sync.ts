import type { Logger } from "pino";
import type { Colour } from "../../colour.js";
import { formatDuration } from "../../duration.js";
import type { DatabaseSync, SwitchoverResult, SyncReading } from "../../engine/ports/database-sync.js";
import { CutoverError } from "../../errors.js";
import { connect, quoteIdent, redactUrl, type SqlClient } from "../runner/sql-client.js";
import {
  advanceSlot,
  bound,
  confirmedPast,
  copySequences,
  createPublication,
  createSlot,
  createSubscription,
  currentLsn,
  dropPublication,
  dropSlot,
  dropSubscription,
  isReplica,
  markReplica,
  setSubscriptionEnabled,
  slots,
  subscriptions,
  unbound,
  unmarkReplica,
  workersGone,
} from "./replication-sql.js";
import {
  checkGuardrails,
  guardrailError,
  schemaTables,
  tableDifferences,
  tableProblems,
} from "./sync-guardrails.js";
import { databasePlace, SyncNames } from "./sync-names.js";
import { readSync, unreadable } from "./sync-reading.js";
import type { SyncSide } from "./sync-side.js";

export interface LogicalSyncOptions {
  readonly service: string;
  /** The service's schema: what is published and compared. */
  readonly schema: string;
  /** Each colour's database (blue: database.url, green: database.green.url). */
  readonly urls: Readonly<Record<Colour, string>>;
  readonly copyTimeoutMs: number;
  readonly switchoverTimeoutMs: number;
  readonly logger: Logger;
}

/** What `check` found, for `follow` to act on after the migrations. */
export interface FollowPlan {
  readonly followsAlready: boolean;
  readonly notes: readonly string[];
}

const POLL_MS = 10;

/**
 * The colours' databases kept in sync by PostgreSQL logical replication. One direction at a time: the idle
 * colour's database follows the live one's (a subscription on the follower, its slot on the source); at a
 * switchover the direction turns, so the old colour's database keeps every write for a way back.
 */
export class LogicalSync implements DatabaseSync {
  readonly #o: LogicalSyncOptions;
  readonly #names: SyncNames;
  readonly #log: Logger;
  readonly switchoverTimeoutMs: number;

  constructor(options: LogicalSyncOptions) {
    this.#o = options;
    this.switchoverTimeoutMs = options.switchoverTimeoutMs;
    this.#names = new SyncNames(options.service, {
      blue: databasePlace(options.urls.blue),
      green: databasePlace(options.urls.green),
    });
    this.#log = options.logger.child({ component: "database-sync" });
  }

  /** Before anything is created or migrated: refuses (SYNC_GUARDRAIL) with every problem and its fix. */
  async check(source: Colour, follower: Colour): Promise<FollowPlan> {
    return this.#with(async (sides) => {
      const followsAlready = await this.#follows(sides[follower].client, source, follower);
      const verdict = await checkGuardrails(sides[source], sides[follower], this.#o.schema, followsAlready);
      if (verdict.problems.length > 0) throw guardrailError(verdict.problems);
      return { followsAlready, notes: verdict.notes };
    });
  }

  /**
   * After the migrations ran on both databases: makes `follower`'s database follow `source`'s (emptied,
   * published, subscribed, copied) unless it does already, and waits for the initial copy.
   */
  async follow(source: Colour, follower: Colour, plan: FollowPlan, signal: AbortSignal): Promise<string> {
    return this.#with(async (sides) => {
      const s = sides[source];
      const f = sides[follower];
      const name = this.#names.subscription(source, follower);
      const started = Date.now();
      // The deploy's migrations may have added a table replication cannot keep: refuse before subscribing.
      const tables = await tableProblems(s, this.#o.schema);
      if (tables.length > 0)
        throw guardrailError(
          tables,
          "the migrations left a table logical replication cannot keep, so none was subscribed",
        );
      const differences = await tableDifferences(s, f, this.#o.schema);
      if (differences.length > 0)
        throw guardrailError(
          differences,
          "the databases' tables differ after the migrations, so none was subscribed",
        );
      if (plan.followsAlready) {
        // New tables from this deploy's migrations are published (FOR TABLES IN SCHEMA) but not subscribed yet.
        await f.client.query(
          `ALTER SUBSCRIPTION ${quoteIdent(name)} REFRESH PUBLICATION WITH (copy_data = true)`,
        );
        await this.#copied(f.client, name, signal);
        const lag = (await slots(s.client, (n) => n === name))[0]?.lagBytes ?? 0;
        return `${f.name} follows ${source}'s (${lag} bytes behind)${notes(plan.notes)}`;
      }
      await this.#clearAll(sides);
      // Every table at once: one that references another must be emptied with it.
      const all = await schemaTables(f.client, this.#o.schema);
      if (all.length > 0)
        await f.client.query(
          `TRUNCATE ${all.map((t) => `${quoteIdent(this.#o.schema)}.${quoteIdent(t)}`).join(", ")}`,
        );
      await createPublication(s.client, this.#names.publication, this.#o.schema);
      await this.#limited(
        s.client,
        this.#o.copyTimeoutMs,
        () => createSlot(s.client, name),
        `creating the slot ${name} on ${s.name}`,
      );
      try {
        await createSubscription(f.client, name, this.#o.urls[source], this.#names.publication, {
          copyData: true,
          enabled: true,
        });
        await markReplica(f.client, this.#o.service, source);
        await this.#copied(f.client, name, signal);
      } catch (error) {
        await dropSubscription(f.client, name).catch((e: unknown) =>
          this.#undoFailed("dropping the subscription", e),
        );
        await dropSlot(s.client, name).catch((e: unknown) => this.#undoFailed("dropping the slot", e));
        throw error;
      }
      const copied = (await subscriptions(f.client, (n) => n === name))[0]?.tables ?? 0;
      const summary = `${f.name} follows ${source}'s: ${copied} table(s) copied in ${formatDuration(Date.now() - started)}, streaming${notes(plan.notes)}`;
      this.#log.info({ source, follower, tables: copied }, summary);
      return summary;
    });
  }

  async ready(from: Colour, to: Colour): Promise<void> {
    await this.#with(async (sides) => {
      const forward = this.#names.subscription(from, to);
      const [row] = await subscriptions(sides[to].client, (n) => n === forward);
      // A disabled subscription is let through: it may be enabled again in time, and switchover() waits
      // for it (within database.switchoverTimeout) like for any follower that is behind.
      if (row === undefined)
        throw new CutoverError(
          "SYNC_NOT_STREAMING",
          `${sides[to].name} does not follow ${sides[from].name} (the sync was stopped at contract, or by \`cutover db sync stop\`), so traffic may not move to ${to} without losing the writes made since; a deploy to ${to} makes it follow again`,
        );
      if (row.copying > 0)
        throw new CutoverError(
          "SYNC_NOT_STREAMING",
          `${sides[to].name} is still copying ${sides[from].name} (${row.copying} table(s) left), so traffic may not move to ${to} yet`,
        );
      // The way back, prepared now so the hold stays short: a publication and a slot on `to` (a slot waits
      // for every open transaction of its server: better now than with requests held), and on `from` a
      // subscription to them, disabled. switchover() moves the slot past what `to` got from `from`.
      const back = this.#names.subscription(to, from);
      await createPublication(sides[to].client, this.#names.publication, this.#o.schema);
      await dropSubscription(sides[from].client, back);
      await dropSlot(sides[to].client, back);
      await this.#limited(
        sides[to].client,
        this.switchoverTimeoutMs,
        () => createSlot(sides[to].client, back),
        `creating the slot ${back} on ${sides[to].name}`,
      );
      await createSubscription(sides[from].client, back, this.#o.urls[to], this.#names.publication, {
        copyData: false,
        enabled: false,
      });
    });
  }

  async switchover(from: Colour, to: Colour, deadlineMs: number): Promise<SwitchoverResult> {
    return this.#with(async (sides) => {
      const s = sides[from].client;
      const f = sides[to].client;
      const forward = this.#names.subscription(from, to);
      const back = this.#names.subscription(to, from);
      const started = Date.now();
      const target = await currentLsn(s);
      while (!(await confirmedPast(s, forward, target))) {
        if (Date.now() >= deadlineMs) {
          const lag = (await slots(s, (n) => n === forward))[0]?.lagBytes ?? null;
          const [row] = await subscriptions(f, (n) => n === forward);
          const why =
            row?.enabled === false
              ? `its subscription ${forward} is disabled`
              : `check the subscription ${forward} (pg_stat_subscription) and the server logs`;
          throw new CutoverError(
            "SWITCHOVER_TIMEOUT",
            `${sides[to].name} had not replayed everything ${sides[from].name} wrote (up to ${target}${lag === null ? "" : `, ${lag} bytes behind`}) within database.switchoverTimeout (${formatDuration(this.switchoverTimeoutMs)}), so traffic and writes stay on ${from}: ${why} (${sides[to].where})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const caughtUpMs = Date.now() - started;
      // From here every statement is bounded by what is left of the switchover's time.
      for (const client of [s, f]) await bound(client, deadlineMs);
      try {
        const sequences = await copySequences(s, f, this.#o.schema);
        await setSubscriptionEnabled(f, forward, false);
        // DISABLE stops the apply worker later: a change it applied after the way back starts would be
        // sent back to `from` (PostgreSQL 15 has no origin filter).
        if (!(await workersGone(f, forward, deadlineMs)))
          throw new CutoverError(
            "SWITCHOVER_TIMEOUT",
            `the subscription ${forward} on ${sides[to].name} did not stop within database.switchoverTimeout; traffic and writes stay on ${from}`,
          );
        await advanceSlot(f, back);
        await setSubscriptionEnabled(s, back, true);
        await unmarkReplica(f, this.#o.service);
        await markReplica(s, this.#o.service, to);
        this.#log.info({ from, to, caughtUpMs, sequences }, "database switchover: the direction turned");
        return { caughtUpMs, sequences };
      } catch (error) {
        // The undo gets all the time it needs, not what was left of the switchover's.
        for (const client of [s, f]) await unbound(client);
        await this.#turnBack(sides, from, to);
        throw error;
      } finally {
        for (const client of [s, f]) await unbound(client);
      }
    });
  }

  async undo(from: Colour, to: Colour): Promise<void> {
    await this.#with((sides) => this.#turnBack(sides, from, to));
  }

  async abandon(from: Colour, to: Colour): Promise<void> {
    await this.#with(async (sides) => {
      const back = this.#names.subscription(to, from);
      await dropSubscription(sides[from].client, back);
      await dropSlot(sides[to].client, back);
    });
  }

  async afterSwitch(from: Colour, to: Colour): Promise<void> {
    await this.#with(async (sides) => {
      const forward = this.#names.subscription(from, to);
      await dropSubscription(sides[to].client, forward);
      await dropSlot(sides[from].client, forward);
    });
  }

  /**
   * Puts the direction back as it was before switchover(): the way back stopped (its worker gone) and
   * disabled, `to` following `from` again, the markers as they were. Each part is tried; a part that fails
   * is logged, as the others may still work.
   */
  async #turnBack(sides: Record<Colour, SyncSide>, from: Colour, to: Colour): Promise<void> {
    const forward = this.#names.subscription(from, to);
    const back = this.#names.subscription(to, from);
    const s = sides[from].client;
    const f = sides[to].client;
    const steps: [string, () => Promise<unknown>][] = [
      ["disabling the way back", () => setSubscriptionEnabled(s, back, false)],
      ["waiting for the way back to stop", () => workersGone(s, back, Date.now() + 10_000)],
      ["enabling the subscription again", () => setSubscriptionEnabled(f, forward, true)],
      ["marking the databases again", () => unmarkReplica(s, this.#o.service)],
      ["marking the databases again", () => markReplica(f, this.#o.service, from)],
    ];
    for (const [what, step] of steps) await step().catch((e: unknown) => this.#undoFailed(what, e));
  }

  #undoFailed(what: string, error: unknown): void {
    this.#log.error({ err: (error as Error).message }, `undoing the database switchover: ${what} failed`);
  }

  /** Runs `work` on `client` with statement_timeout = `ms`, naming what timed out. */
  async #limited(client: SqlClient, ms: number, work: () => Promise<unknown>, what: string): Promise<void> {
    await client.query(`SET statement_timeout = ${Math.max(1, Math.round(ms))}`);
    try {
      await work();
    } catch (error) {
      if ((error as { code?: string }).code === "57014")
        throw new CutoverError(
          "SWITCHOVER_TIMEOUT",
          `${what} did not finish within ${formatDuration(ms)}: a transaction stays open on that server (see pg_stat_activity, state "idle in transaction"); a new replication slot waits for every open transaction`,
        );
      throw error;
    } finally {
      await client.query("SET statement_timeout = 0");
    }
  }

  async read(): Promise<SyncReading> {
    const readAt = new Date().toISOString();
    try {
      return await this.#with((sides) => readSync(sides, this.#names, readAt));
    } catch (error) {
      return unreadable(readAt, (error as Error).message);
    }
  }

  async stop(): Promise<string> {
    return this.#with(async (sides) => {
      const dropped = await this.#clearAll(sides);
      const publications: string[] = [];
      for (const colour of ["blue", "green"] as const)
        if (await dropPublication(sides[colour].client, this.#names.publication))
          publications.push(`${this.#names.publication} on ${colour}`);
      const all = [...dropped, ...publications.map((p) => `publication ${p}`)];
      const summary = all.length === 0 ? "nothing of cutover's to drop" : `dropped ${all.join(", ")}`;
      this.#log.info({ dropped: all }, `database sync stopped: ${summary}`);
      return summary;
    });
  }

  /** Drops every subscription and then every slot of cutover's on both databases; says what it dropped. */
  async #clearAll(sides: Record<Colour, SyncSide>): Promise<string[]> {
    const owns = (n: string) => this.#names.owns(n);
    const dropped: string[] = [];
    for (const colour of ["blue", "green"] as const)
      for (const sub of await subscriptions(sides[colour].client, owns))
        if (await dropSubscription(sides[colour].client, sub.name))
          dropped.push(`subscription ${sub.name} on ${colour}`);
    for (const colour of ["blue", "green"] as const)
      for (const slot of await slots(sides[colour].client, owns))
        if (await dropSlot(sides[colour].client, slot.name)) dropped.push(`slot ${slot.name} on ${colour}`);
    return dropped;
  }

  async #follows(client: SqlClient, source: Colour, follower: Colour): Promise<boolean> {
    const name = this.#names.subscription(source, follower);
    const [row] = await subscriptions(client, (n) => n === name);
    return row?.enabled === true;
  }

  async #copied(client: SqlClient, name: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.#o.copyTimeoutMs;
    for (;;) {
      const [row] = await subscriptions(client, (n) => n === name);
      if (row && row.copying === 0) return;
      signal.throwIfAborted();
      if (Date.now() >= deadline)
        throw new CutoverError(
          "SYNC_COPY_FAILED",
          `the initial copy for ${name} did not finish within database.copyTimeout (${formatDuration(this.#o.copyTimeoutMs)}); ${row?.copying ?? "?"} table(s) still copying: see pg_subscription_rel and the server logs, or raise database.copyTimeout`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Connects to both databases for one piece of work, and closes both after it. */
  async #with<T>(work: (sides: Record<Colour, SyncSide>) => Promise<T>): Promise<T> {
    const open = async (colour: Colour): Promise<SyncSide> => {
      const url = this.#o.urls[colour];
      const client = await connect(url, { applicationName: "cutover sync", searchPath: this.#o.schema });
      try {
        return {
          colour,
          name: `${colour}'s database`,
          where: redactUrl(url),
          client,
          replica: await isReplica(client, this.#o.service),
        };
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    };
    const [blue, green] = await Promise.allSettled([open("blue"), open("green")]);
    if (blue.status === "rejected" || green.status === "rejected") {
      for (const side of [blue, green]) if (side.status === "fulfilled") await side.value.client.end();
      throw blue.status === "rejected" ? blue.reason : (green as PromiseRejectedResult).reason;
    }
    try {
      return await work({ blue: blue.value, green: green.value });
    } finally {
      await Promise.all(
        [blue.value.client.end(), green.value.client.end()].map((p) => p.catch(() => undefined)),
      );
    }
  }
}

function notes(list: readonly string[]): string {
  return list.length === 0 ? "" : `; note: ${list.join("; ")}`;
}
