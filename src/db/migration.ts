/** Expand migrations keep the running version working; contract ones may break it and run after it is gone. */
export const PHASES = ["expand", "contract"] as const;
export type Phase = (typeof PHASES)[number];

export function isPhase(value: string): value is Phase {
  return (PHASES as readonly string[]).includes(value);
}

/** The up or the down part of a migration file. */
export interface MigrationPart {
  readonly sql: string;
  /** 1-based line of the file where this part's text starts, so findings point into the file. */
  readonly line: number;
}

/** One `NNNN_name.sql` file. */
export interface Migration {
  /** The digits of the file name, as written: "0002". */
  readonly version: string;
  /** "add_email" */
  readonly name: string;
  /** "0002_add_email" */
  readonly id: string;
  readonly file: string;
  readonly phase: Phase;
  readonly up: MigrationPart;
  readonly down: MigrationPart | null;
  /** sha256 (hex) of the up part with line endings normalised; the down part may be corrected after it ran. */
  readonly checksum: string;
}

/** Numeric order of versions: "0002" < "0010" < "10000". */
export function compareVersions(a: string, b: string): number {
  return Number(a) - Number(b);
}
