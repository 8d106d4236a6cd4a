import type { Colour } from "../../colour.js";
import type { SqlClient } from "../runner/sql-client.js";

/** One colour's database, connected, as the sync code sees it. */
export interface SyncSide {
  readonly colour: Colour;
  /** "blue's database", for messages. */
  readonly name: string;
  /** Its URL without the password. */
  readonly where: string;
  readonly client: SqlClient;
  /** cutover made this database as a copy of the other and may empty it to copy again. */
  readonly replica: boolean;
}
