/**
 * `cutover dashboard` as main.ts will run it once it registers the command: the same global options
 * (--config, --json) and error reporting. The tests use the real CLI as soon as main.ts has the command.
 */
import { Command, CommanderError, Option } from "commander";
import { registerDashboardCommand } from "../../src/cli/commands/dashboard.js";
import { Output } from "../../src/cli/output.js";
import { CONFIG_FILE, loadConfig } from "../../src/config/load.js";
import { CutoverError } from "../../src/errors.js";

const program = new Command()
  .name("cutover")
  .addOption(new Option("-c, --config <file>", "the service's config").default(CONFIG_FILE))
  .option("--json", "print machine-readable JSON")
  .exitOverride();
const globals = () => program.opts<{ config: string; json?: boolean }>();
registerDashboardCommand(program, {
  config: () => loadConfig(globals().config),
  output: () => new Output(Boolean(globals().json)),
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CutoverError) {
    process.stderr.write(`cutover: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else if (error instanceof CommanderError) {
    process.exitCode = 2;
  } else throw error;
}
