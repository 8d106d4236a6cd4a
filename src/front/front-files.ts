import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/atomic-write.js";
import { CutoverError } from "../errors.js";

/** The front's state folder inside the config's (.cutover/global-front): its token and regions.json. */
export const FRONT_STATE_DIR = "global-front";
/** Which regions are drained: {"disabled": ["eu"]}. A region not named is enabled. */
export const REGIONS_FILE = "regions.json";

export function frontStateDir(configStateDir: string): string {
  return join(configStateDir, FRONT_STATE_DIR);
}

/** The regions drained when the front last wrote its file: a restarted front keeps them out. */
export function readDisabledRegions(stateDir: string): ReadonlySet<string> {
  const path = join(stateDir, REGIONS_FILE);
  if (!existsSync(path)) return new Set();
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { disabled?: unknown };
    const disabled = parsed.disabled;
    if (Array.isArray(disabled) && disabled.every((name) => typeof name === "string"))
      return new Set(disabled);
  } catch {
    // answered below
  }
  throw new CutoverError(
    "STATE_CORRUPT",
    `${path} is not the global front's list of drained regions ({"disabled": [...]}); fix it, or delete it to start with every region enabled`,
  );
}

/** Writes the drained regions whole (temporary file, fsync, rename): a crash leaves the old list or the new. */
export function writeDisabledRegions(stateDir: string, disabled: Iterable<string>): void {
  const names = [...disabled].sort();
  writeFileAtomic(join(stateDir, REGIONS_FILE), `${JSON.stringify({ disabled: names }, null, 2)}\n`);
}
