import type { Command } from "commander";
import { destination, pino } from "pino";
import type { LoadedConfig } from "../../config/load.js";
import { CutoverError, EXIT_FAILED } from "../../errors.js";
import type { Output } from "../output.js";
import { renderSync } from "../render-sync.js";

export interface DbContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

/**
 * `cutover db sync status | stop`: the logical replication between the colours' databases
 * (database.sync: logical), read and dropped straight on the databases, with or without a daemon.
 */
export function registerDbCommands(program: Command, context: DbContext): void {
  const db = program.command("db").description("the colours' databases (database.sync: logical)");
  const sync = db
    .command("sync")
    .description("the logical replication that keeps the idle colour's database in sync with the live one");

  sync
    .command("status")
    .description("the sync's state and direction, its lag (bytes and seconds), and every slot of cutover's")
    .action(async () => {
      const reading = await (await openSync(context)).read();
      context.output().result(reading, () => renderSync(reading).join("\n"));
      if (reading.problem || reading.slots.some((s) => s.abandoned)) process.exitCode = EXIT_FAILED;
    });

  sync
    .command("stop")
    .description(
      "drop every subscription, publication and replication slot of cutover's on both databases (the idle one stops following)",
    )
    .action(async () => {
      const summary = await (await openSync(context)).stop();
      context.output().result({ stopped: true, summary }, () => `database sync stopped: ${summary}`);
    });
}

async function openSync(context: DbContext) {
  const loaded = context.config();
  const { createLogicalSync } = await import("../../db/create-deploy-migrator.js");
  const level = process.env.CUTOVER_LOG_LEVEL ?? "warn";
  const sync = createLogicalSync(loaded, pino({ level }, destination(2)));
  if (sync === null)
    throw new CutoverError(
      "NO_DATABASE",
      `${loaded.file} does not say database.sync: logical, so there is no sync to read or stop; add sync: logical and green: { url: ... } under database:`,
    );
  return sync;
}
