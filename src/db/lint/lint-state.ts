import { parseDuration } from "../../duration.js";
import type { Phase } from "../migration.js";

/** What the linter is told about where the migrations will run. */
export interface LintOptions {
  /** lock_timeout the runner sets for every migration (database.lockTimeout); 0: none. */
  readonly lockTimeoutMs: number;
  /** server_version_num of the target database when known (e.g. 150004); some rules depend on it. */
  readonly serverVersionNum?: number;
  /** The schema the service's tables live in (renames elsewhere cannot be served by versioned views). */
  readonly baseSchema?: string;
}

/**
 * Kinds of object a migration makes, each with names of its own. Triggers, policies and rules are named
 * per table ("users.users_touch").
 */
export const OBJECT_KINDS = [
  "table",
  "view",
  "sequence",
  "function",
  "type",
  "trigger",
  "policy",
  "rule",
  "schema",
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** Tables, views and sequences share one set of names (pg_class): freeing one frees it for all three. */
const RELATION_KINDS: readonly ObjectKind[] = ["table", "view", "sequence"];

/** A CHECK (column IS NOT NULL) constraint seen in the migrations linted so far. */
interface NotNullCheck {
  readonly table: string;
  readonly column: string;
  validated: boolean;
}

/** What the linter learns across the files of one run, in version order. */
export class LintContext {
  readonly #checks = new Map<string, NotNullCheck>();

  noteNotNullCheck(name: string, table: string, column: string, validated: boolean): void {
    this.#checks.set(name, { table, column, validated });
  }

  noteValidated(name: string): void {
    const check = this.#checks.get(name);
    if (check) check.validated = true;
  }

  /** True when a validated CHECK (column IS NOT NULL) exists, so SET NOT NULL skips its scan. */
  hasValidNotNullCheck(table: string, column: string): boolean {
    for (const check of this.#checks.values()) {
      if (check.validated && check.table === table && check.column === column) return true;
    }
    return false;
  }
}

/** What the linter knows at one statement of one migration: updated after each statement. */
export class LintState {
  readonly phase: Phase;
  readonly options: LintOptions;
  readonly context: LintContext;
  readonly statementCount: number;
  /** lock_timeout in force, in milliseconds; 0 means none. */
  lockTimeoutMs: number;
  /** Inside an explicit BEGIN ... COMMIT written in the file. */
  inTransactionBlock = false;
  /** "kind:name" of objects this migration made: nobody else uses them yet, so changing them harms nobody. */
  readonly #newObjects = new Set<string>();

  constructor(phase: Phase, options: LintOptions, context: LintContext, statementCount: number) {
    this.phase = phase;
    this.options = options;
    this.context = context;
    this.statementCount = statementCount;
    this.lockTimeoutMs = options.lockTimeoutMs;
  }

  get baseSchema(): string {
    return this.options.baseSchema ?? "public";
  }

  isNewTable(table: string | undefined): boolean {
    return this.isNew("table", table);
  }

  /** Whether the running version cannot be using `name` (unqualified): this migration made or freed it. */
  isNew(kind: ObjectKind, name: string | undefined): boolean {
    return name !== undefined && this.#newObjects.has(`${kind}:${name}`);
  }

  /** A trigger, policy or rule is new when its table is, or when this migration made it. */
  isNewOnTable(kind: ObjectKind, table: string, name: string): boolean {
    return this.isNewTable(table) || this.isNew(kind, `${table}.${name}`);
  }

  /** This migration made the object: later statements may drop or replace it. */
  noteCreated(kind: ObjectKind, name: string): void {
    this.#newObjects.add(`${kind}:${name}`);
  }

  /**
   * This migration dropped the object or renamed it away (reported on its own): an object made under the
   * name afterwards, even by CREATE OR REPLACE, is a new one (e.g. a view with the old name of a table).
   */
  noteFreed(kind: ObjectKind, name: string): void {
    const kinds = RELATION_KINDS.includes(kind) ? RELATION_KINDS : [kind];
    for (const each of kinds) this.#newObjects.add(`${each}:${name}`);
  }

  /** SET lock_timeout = value: a number is milliseconds; a string may carry a unit ("2s", "1min"). */
  setLockTimeout(value: string | number | null): void {
    if (value === null) {
      this.lockTimeoutMs = 0;
      return;
    }
    if (typeof value === "number") {
      this.lockTimeoutMs = value;
      return;
    }
    const text = value.trim().replace(/min$/, "m");
    this.lockTimeoutMs = /^\d+$/.test(text) ? Number(text) : (parseDuration(text) ?? this.lockTimeoutMs);
  }
}
