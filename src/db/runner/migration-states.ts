import { compareVersions, type Migration, type Phase } from "../migration.js";
import { AppliedFileMissingError, ChecksumMismatchError, OutOfOrderError } from "../migration-errors.js";
import type { AppliedMigration } from "./history-table.js";

/**
 * applied: recorded and unchanged. pending: an expand migration `up` (and a deploy) would run.
 * held: a contract migration waiting for `migrate contract` (or a deploy's contract step).
 * changed: applied, but the file's up part changed since. missing: applied, but the file is gone.
 * out-of-order: new expand migration sorting before one already applied.
 */
export const MIGRATION_STATES = ["applied", "pending", "held", "changed", "missing", "out-of-order"] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export interface MigrationEntry {
  readonly version: string;
  readonly id: string;
  readonly phase: Phase;
  readonly state: MigrationState;
  readonly migration: Migration | null;
  readonly applied: AppliedMigration | null;
}

/** Every migration file and every applied one, side by side, in version order. */
export function migrationStates(
  files: readonly Migration[],
  applied: readonly AppliedMigration[],
): MigrationEntry[] {
  const byVersion = new Map(applied.map((row) => [Number(row.version), row]));
  const latest = applied.reduce<string | null>(
    (max, row) => (max === null || compareVersions(row.version, max) > 0 ? row.version : max),
    null,
  );
  const entries: MigrationEntry[] = files.map((migration) => {
    const row = byVersion.get(Number(migration.version)) ?? null;
    byVersion.delete(Number(migration.version));
    return {
      version: migration.version,
      id: migration.id,
      phase: migration.phase,
      state: stateOf(migration, row, latest),
      migration,
      applied: row,
    };
  });
  for (const row of byVersion.values()) {
    entries.push({
      version: row.version,
      id: `${row.version}_${row.name}`,
      phase: row.phase,
      state: "missing",
      migration: null,
      applied: row,
    });
  }
  return entries.sort((a, b) => compareVersions(a.version, b.version));
}

function stateOf(migration: Migration, row: AppliedMigration | null, latest: string | null): MigrationState {
  if (row) return row.checksum === migration.checksum ? "applied" : "changed";
  if (migration.phase === "contract") return "held";
  return latest !== null && compareVersions(migration.version, latest) < 0 ? "out-of-order" : "pending";
}

/** The highest applied version, or null when nothing is applied. */
export function schemaVersionOf(applied: readonly AppliedMigration[]): string | null {
  return applied.reduce<string | null>(
    (max, row) => (max === null || compareVersions(row.version, max) > 0 ? row.version : max),
    null,
  );
}

/** Stops a run on the first problem the history shows, with a message that says what to do. */
export function assertRunnable(entries: readonly MigrationEntry[], folder: string): void {
  const latestApplied = entries.filter((e) => e.applied !== null).at(-1);
  for (const entry of entries) {
    if (entry.state === "changed" && entry.applied && entry.migration) {
      throw new ChecksumMismatchError(entry.id, entry.applied.checksum, entry.migration.checksum);
    }
    if (entry.state === "missing") throw new AppliedFileMissingError(entry.id, folder);
    if (entry.state === "out-of-order") throw new OutOfOrderError(entry.id, latestApplied?.id ?? "?");
  }
}
