import type { Colour } from "../../colour.js";

/** What one colour runs: a version, a replica count, and environment added for it (e.g. by the migrator). */
export interface ColourSpec {
  readonly colour: Colour;
  readonly version: string;
  readonly replicas: number;
  readonly env?: Readonly<Record<string, string>>;
}
