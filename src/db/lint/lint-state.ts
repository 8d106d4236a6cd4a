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
  /** Tables created by this migration: nobody else uses them yet, so locks on them harm nobody. */
  readonly createdTables = new Set<string>();

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
    return table !== undefined && this.createdTables.has(table);
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
