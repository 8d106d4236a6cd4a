import type { Colour } from "../../colour.js";
import type { DatabaseSync } from "./database-sync.js";

/**
 * What the deploy engine asks of the database side. The engine only knows this interface; the migration
 * runner, the linter, the embedded database and the sync between two databases sit behind it.
 */
export interface DeployMigrator {
  /**
   * Before the new colour (`target`) starts: lint the pending expand migrations (a backward-incompatible
   * change refuses the deploy with the finding and the safe alternative), check the schema range `version`
   * needs, and apply them. With database.sync: logical, on both colours' databases, and then `target`'s
   * database is made to follow the live one. Returns a one-line summary ("applied 0002_add_email").
   */
  expand(version: string, target: Colour, signal: AbortSignal): Promise<string>;
  /** Extra environment for a colour's replicas: DATABASE_URL, and the search_path that gives it its schema version. */
  colourEnv(colour: Colour, version: string): Promise<Readonly<Record<string, string>>>;
  /** Just before the switch: does `colour`'s database have the schema `version` needs? Throws a CutoverError saying what is missing. */
  checkSchema(version: string, colour: Colour): Promise<string>;
  /**
   * After the old colour has stopped: run (or, when the config says so, only report) pending contract
   * migrations. With database.sync: logical, the sync stops first (on both databases). Returns a one-line summary.
   */
  contract(): Promise<string>;
  /** The two colours' databases kept in sync (database.sync: logical); null when both share one database. */
  readonly sync: DatabaseSync | null;
  close(): Promise<void>;
}
