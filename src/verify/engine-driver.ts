import { otherColour } from "../colour.js";
import type { DeployRecord } from "../engine/deploy-record.js";
import type { Engine, StartedOperation } from "../engine/engine.js";
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

  /** Waits for the operation's end, promoting it when it pauses for promotion (a failed promote fails the step). */
  async #toTheEnd(started: StartedOperation): Promise<DeployRecord> {
    let promoted = false;
    let fail: (error: unknown) => void = () => {};
    const promoteFailed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    const promoteIfPaused = (phase: string | undefined) => {
      if (phase !== "Paused" || promoted) return;
      promoted = true;
      this.#engine.promote().catch(fail);
    };
    const off = this.#engine.onEvent((event) => {
      if (event.type === "deploy" && event.record.id === started.record.id)
        promoteIfPaused(event.record.phase);
    });
    try {
      // It may have paused before this listener was there.
      const current = this.#engine.status().deploy;
      if (current?.id === started.record.id) promoteIfPaused(current.phase);
      return await Promise.race([started.done, promoteFailed]);
    } finally {
      off();
    }
  }
}
