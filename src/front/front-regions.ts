import { CutoverError } from "../errors.js";
import { writeDisabledRegions } from "./front-files.js";
import type { FrontRegion } from "./front-region.js";
import type { FrontRegionState } from "./global-front.js";

/** The front's regions by name; drain and restore write the list of drained regions before they apply. */
export class FrontRegions {
  readonly list: readonly FrontRegion[];
  readonly #byName: ReadonlyMap<string, FrontRegion>;
  readonly #stateDir: string;

  constructor(regions: readonly FrontRegion[], stateDir: string) {
    this.list = regions;
    this.#byName = new Map(regions.map((region) => [region.name, region]));
    this.#stateDir = stateDir;
  }

  /** The region called `name`; throws UNKNOWN_REGION naming the ones there are. */
  get(name: string): FrontRegion {
    const region = this.#byName.get(name);
    if (region === undefined)
      throw new CutoverError(
        "UNKNOWN_REGION",
        `the global front has no region "${name}"; its regions are ${this.list.map((r) => `"${r.name}"`).join(", ")}`,
      );
    return region;
  }

  /**
   * Takes a region out (false) or in (true). The file is written first: if that fails nothing changes, and a
   * front restarted later finds what it answered.
   */
  setEnabled(name: string, enabled: boolean): FrontRegionState {
    const region = this.get(name);
    if (region.enabled !== enabled) {
      const disabled = this.list.filter((r) => (r === region ? !enabled : !r.enabled)).map((r) => r.name);
      writeDisabledRegions(this.#stateDir, disabled);
      region.setEnabled(enabled);
    }
    return region.state();
  }

  states(): FrontRegionState[] {
    return this.list.map((region) => region.state());
  }
}
