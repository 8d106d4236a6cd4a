import type { SchemaRange } from "../config/database-schema.js";
import { compareVersions } from "./migration.js";
import type { MigrationEntry } from "./runner/migration-states.js";

/** A range a service version must satisfy, and the `requires` key that declared it. */
export interface RequiredRange {
  readonly pattern: string;
  readonly range: SchemaRange;
}

/** What a version needs, and what the database lacks of it. */
export interface RangeVerdict {
  readonly version: string;
  readonly required: readonly RequiredRange[];
  /** One line per problem; empty when every range holds. */
  readonly problems: readonly string[];
}

/** "2.x", "2.1.*", "*", or an exact version: a wildcard segment matches it and everything after. */
export function matchesVersion(pattern: string, version: string): boolean {
  const want = pattern.split(".");
  const have = version.split(".");
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    if (segment === "x" || segment === "*") return true;
    if (segment !== have[i]) return false;
  }
  return want.length === have.length;
}

export function requiredRanges(
  requires: Readonly<Record<string, SchemaRange>>,
  version: string,
): RequiredRange[] {
  return Object.entries(requires)
    .filter(([pattern]) => matchesVersion(pattern, version))
    .map(([pattern, range]) => ({ pattern, range }));
}

/**
 * Checks the ranges against the migrations as the database has them. A minimum needs every migration up
 * to it applied; a maximum forbids applied contract migrations above it (expand migrations never break a
 * version, so they do not count).
 */
export function checkRanges(
  version: string,
  required: readonly RequiredRange[],
  entries: readonly MigrationEntry[],
): RangeVerdict {
  const problems = required.flatMap(({ pattern, range }) => {
    const label = `${version} needs schema ${range.text} (database.requires "${pattern}")`;
    const found: string[] = [];
    const { min, max } = range;
    if (min !== null) {
      if (!entries.some((e) => compareVersions(e.version, min) === 0)) {
        found.push(`${label}, but there is no migration ${min}`);
      }
      for (const entry of entries) {
        if (compareVersions(entry.version, min) > 0 || entry.applied !== null) continue;
        const how = entry.phase === "contract" ? "`cutover migrate contract`" : "`cutover migrate up`";
        found.push(`${label}, but ${entry.id} (${entry.phase}) is not applied; apply it with ${how}`);
      }
    }
    if (max !== null) {
      for (const entry of entries) {
        if (compareVersions(entry.version, max) <= 0 || entry.applied === null || entry.phase !== "contract")
          continue;
        found.push(
          `${label}, but ${entry.id} (contract) is applied and removed what ${version} uses; deploy a newer version`,
        );
      }
    }
    return found;
  });
  return { version, required, problems };
}
