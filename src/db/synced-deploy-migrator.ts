import type { Logger } from "pino";
import { type Colour, otherColour } from "../colour.js";
import type { DeployMigrator } from "../engine/ports/deploy-migrator.js";
import type { LogicalSync } from "./sync/logical-sync.js";

/**
 * The database side of a deploy with database.sync: logical: each colour has its own database, migrated
 * alike (DDL is not replicated, and the way back replicates rows into the old schema), and the target
 * colour's database follows the live one's before the target starts.
 */
export class SyncedDeployMigrator implements DeployMigrator {
  readonly #colours: Readonly<Record<Colour, DeployMigrator>>;
  readonly #sync: LogicalSync;
  readonly #log: Logger;

  constructor(colours: Readonly<Record<Colour, DeployMigrator>>, sync: LogicalSync, logger: Logger) {
    this.#colours = colours;
    this.#sync = sync;
    this.#log = logger.child({ component: "deploy-migrator" });
  }

  get sync(): LogicalSync {
    return this.#sync;
  }

  async expand(version: string, target: Colour, signal: AbortSignal): Promise<string> {
    const live = otherColour(target);
    // Every guardrail is checked before any migration or replication object is made.
    const plan = await this.#sync.check(live, target);
    // The follower first: a column it has and the live database lacks is left at its default, while a row
    // with a column the follower lacks would stop its replication until the column is there.
    const onTarget = await this.#colours[target].expand(version, target, signal);
    const onLive = await this.#colours[live].expand(version, target, signal);
    const following = await this.#sync.follow(live, target, plan, signal);
    const summary = `${live}: ${onLive}; ${target}: ${onTarget}; ${following}`;
    this.#log.info({ version, target, summary }, "expand step done");
    return summary;
  }

  colourEnv(colour: Colour, version: string): Promise<Readonly<Record<string, string>>> {
    return this.#colours[colour].colourEnv(colour, version);
  }

  checkSchema(version: string, colour: Colour): Promise<string> {
    return this.#colours[colour].checkSchema(version, colour);
  }

  /** The old colour has stopped: the sync ends (nothing follows the live database any more), then contract on both. */
  async contract(): Promise<string> {
    const stopped = await this.#sync.stop();
    const blue = await this.#colours.blue.contract();
    const green = await this.#colours.green.contract();
    return `sync stopped (${stopped}); blue: ${blue}; green: ${green}`;
  }

  async close(): Promise<void> {
    await Promise.all([this.#colours.blue.close(), this.#colours.green.close()]);
  }
}
