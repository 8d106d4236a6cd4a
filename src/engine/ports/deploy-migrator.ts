import type { Colour } from "../../colour.js";

/**
 * What the deploy engine asks of the database side. The engine only knows this interface; the migration
 * runner, the linter and the embedded database sit behind it.
 */
export interface DeployMigrator {
  /**
   * Before the new colour starts: lint the pending expand migrations (a backward-incompatible change
   * refuses the deploy with the finding and the safe alternative), check the schema range `version`
   * needs, and apply them. Returns a one-line summary for the deploy record ("applied 0002_add_email").
   */
  expand(version: string, signal: AbortSignal): Promise<string>;
  /** Extra environment for a colour's replicas: DATABASE_URL, and the search_path that gives it its schema version. */
  colourEnv(colour: Colour, version: string): Promise<Readonly<Record<string, string>>>;
  /** Just before the switch: does the database have the schema `version` needs? Throws a CutoverError saying what is missing. */
  checkSchema(version: string): Promise<string>;
  /**
   * After the old colour has stopped: run (or, when the config says so, only report) pending contract
   * migrations. Returns a one-line summary.
   */
  contract(): Promise<string>;
  close(): Promise<void>;
}
