import { otherColour } from "../colour.js";
import type { Engine } from "../engine/engine.js";
import type { StartedOperation } from "../engine/engine-options.js";
import { type DeployRecord, waitsForPerson } from "../engine/lifecycle.js";
import { CutoverError } from "../errors.js";
import { outcomeOf } from "./admin-api-driver.js";
import type { SwitchDriver, SwitchOutcome } from "./switch-driver.js";

/**
 * Switches through an engine in this process: the platform without a daemon (Kubernetes), where every
 * `cutover` command runs the engine itself. The same moves as through the admin API: a switch is a rollback
 * to the warm other colour, the active version deployed there first when it never ran; a pause is promoted.
 */
export class EngineDriver implements SwitchDriver {
  readonly description: string;
  readonly #engine: Engine;

  constructor(engine: Engine, description: string) {
    this.#engine = engine;
    this.description = description;
  }

  async switchOver(_kind: "switch" | "rollback"): Promise<SwitchOutcome> {
    const status = this.#engine.status();
    if (status.colours[otherColour(status.active)].recordedVersion === null) {
      const version = status.colours[status.active].recordedVersion;
      if (version === null) throw new CutoverError("NOTHING_TO_SWITCH", "no colour has a version yet");
      return this.deploy(version);
    }
    return outcomeOf(await this.#toTheEnd(await this.#engine.rollback()));
  }

  async deploy(version: string): Promise<SwitchOutcome> {
    return outcomeOf(await this.#toTheEnd(await this.#engine.deploy(version)));
  }

  /** Follows the operation to its end, promoting it when it waits for a person (a failed promote fails the step). */
  async #toTheEnd(started: StartedOperation): Promise<DeployRecord> {
    let last = started.record;
    for await (const record of this.#engine.follow(started.record.id)) last = record;
    return waitsForPerson(last) ? this.#engine.promote() : last;
  }
}
