import { otherColour } from "../colour.js";
import type { DeployRecord } from "../engine/lifecycle.js";
import type { ServiceStatus } from "../engine/service-status.js";
import { CutoverError } from "../errors.js";
import type { AdminApi } from "./admin-api.js";
import type { SwitchDriver, SwitchOutcome } from "./switch-driver.js";

/**
 * Switches a running cutover through its admin API. A switch is a rollback to the warm other colour (an
 * instant pointer move); when the other colour never ran a version, the active version is deployed to it
 * first. A deploy that pauses for promotion is promoted by the drill.
 */
export class AdminApiDriver implements SwitchDriver {
  readonly description: string;
  readonly #api: AdminApi;

  constructor(api: AdminApi, description: string) {
    this.#api = api;
    this.description = description;
  }

  status(): Promise<ServiceStatus> {
    return this.#api.get<ServiceStatus>("/status");
  }

  history(): Promise<DeployRecord[]> {
    return this.#api.get<DeployRecord[]>("/history");
  }

  async switchOver(_kind: "switch" | "rollback"): Promise<SwitchOutcome> {
    const status = await this.status();
    const other = status.colours[otherColour(status.active)];
    if (other.recordedVersion === null) {
      const version = status.colours[status.active].recordedVersion;
      if (version === null) throw new CutoverError("NOTHING_TO_SWITCH", "no colour has a version yet");
      return this.deploy(version);
    }
    return this.follow("/rollback", {});
  }

  deploy(version: string): Promise<SwitchOutcome> {
    return this.follow("/deploys", { version });
  }

  /** Starts a deploy or rollback, follows it to its end (promoting it if it pauses), and says where traffic is. */
  async follow(path: string, body: Record<string, unknown>): Promise<SwitchOutcome> {
    return outcomeOf(await this.record(path, body));
  }

  /** The same, giving the final deploy record. */
  async record(path: string, body: Record<string, unknown>): Promise<DeployRecord> {
    let last: DeployRecord | null = null;
    for await (const record of this.#api.stream<DeployRecord>(path, { ...body, follow: true })) last = record;
    if (last?.phase === "Paused") last = await this.#api.post<DeployRecord>("/promote");
    if (!last)
      throw new CutoverError("NO_ANSWER", `${path} closed without an answer; see \`cutover status\``);
    return last;
  }
}

export function outcomeOf(record: DeployRecord): SwitchOutcome {
  const ok = record.phase === "Healthy";
  const where = ok ? record.to.colour : record.from.colour;
  const reason = record.reason ? `: ${record.reason}` : "";
  return {
    from: record.from.colour,
    expected: where,
    ok,
    detail: `${record.id} ${record.kind} ${record.version} ${record.phase}${ok ? `: ${record.from.colour} -> ${record.to.colour}` : reason}`,
    deployId: record.id,
  };
}
