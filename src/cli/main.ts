#!/usr/bin/env node
// Start-up time: this module imports only commander and small modules of its own. Everything else (the
// config's zod schema and YAML parser, pino, the daemon, the migration parser's WebAssembly, the Kubernetes
// client, vega and resvg, the verify machinery, the dashboard) is loaded with `await import(...)` by the
// command that uses it, so `cutover --version` or `cutover status` never pays for the others.
// test/install/cli-startup.test.ts checks that `--version` stays that way.
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { redactSecrets, redactStandardStreams } from "../config/interpolate.js";
import type { LoadedConfig } from "../config/load.js";
import type { ControlPlane } from "../control/control-plane.js";
import type { ServiceStatus } from "../engine/service-status.js";
import { CutoverError, EXIT_BAD_INPUT, EXIT_FAILED } from "../errors.js";
import { Output } from "./output.js";

interface GlobalOptions {
  config?: string;
  json?: boolean;
  region?: string;
}

/** config/load.ts's CONFIG_FILE, written out here so that the default does not load the config's schema. */
const CONFIG_FILE = "cutover.yaml";

/** package.json's version: dist/src/cli/main.js is three folders below it (src/cli/main.ts two, under tsx). */
function packageVersion(): string {
  for (const path of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "cutover" && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}

const program = new Command()
  .name("cutover")
  .description(
    "Zero-downtime blue-green deployments: start the new version beside the live one, check it, switch.",
  )
  .version(packageVersion())
  .addOption(
    new Option(
      "-c, --config <file>",
      `the service's config (default: $CUTOVER_CONFIG, else the nearest ${CONFIG_FILE} here or in a parent folder)`,
    ),
  )
  .option("--json", "print machine-readable JSON")
  .option("--region <name>", "on a fleet (cutover.yaml with regions:), act on this region alone")
  .showHelpAfterError()
  .exitOverride();

const globals = () => program.opts<GlobalOptions>();
const output = () => new Output(Boolean(globals().json));
/** config/load.js, loaded before any command's action runs (the preAction hook below). */
let configModule: typeof import("../config/load.js") | undefined;
program.hook("preAction", async () => {
  configModule ??= await import("../config/load.js");
});
const config = (): LoadedConfig => {
  if (!configModule) throw new Error("config/load.js is not loaded yet");
  return configModule.loadConfig(configModule.findConfigFile(globals().config));
};
/**
 * The fleet commands' module when cutover.yaml has regions: and no --region names one of them (then the
 * command acts on the whole fleet); null for a single-region service or a command aimed at one region.
 */
async function fleetCommands(loaded: LoadedConfig) {
  if (!loaded.config.regions || globals().region !== undefined) return null;
  return import("./commands/fleet.js");
}

/**
 * Runs `action` with the control plane of the config's platform (on a fleet, of the region --region names),
 * and closes it after.
 */
async function withControl<T>(action: (control: ControlPlane) => Promise<T>): Promise<T> {
  const loaded = config();
  const region = globals().region;
  let control: ControlPlane;
  if (region !== undefined || loaded.config.regions) {
    if (region === undefined)
      throw new CutoverError(
        "BAD_ARGUMENT",
        `this is a fleet (${loaded.file} has regions:); name one region with --region NAME for this command`,
      );
    control = await (await import("./commands/fleet.js")).regionControl(loaded, region);
  } else control = await (await import("../control/control-for-config.js")).controlFor(loaded);
  try {
    return await action(control);
  } finally {
    await control.close();
  }
}

program
  .command("schema")
  .description("print the JSON Schema of cutover.yaml (for editors)")
  .action(async () => {
    const { configJsonSchema } = await import("../config/schema.js");
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

program
  .command("up")
  .description("start the daemon and the data plane (router and replicas), serving the current version")
  .option("--foreground", "run the daemon in this process instead of in the background")
  .option("--replace", "replace a running daemon of the same cutover (one of another is replaced anyway)")
  .action(async (options: { foreground?: boolean; replace?: boolean }) => {
    const loaded = config();
    const { runDaemonInForeground, runningDaemonPid, startDaemonInBackground, handOver } = await import(
      "./commands/daemon-process.js"
    );
    if (options.foreground) return runDaemonInForeground(loaded);
    const pid = runningDaemonPid(loaded);
    const { renderStatus } = await import("./render.js");
    if (pid !== null) {
      const handover = await handOver(loaded, pid, options.replace === true);
      if (handover === null) {
        const { AdminClient } = await import("../control/admin-client.js");
        const status = await AdminClient.forConfig(loaded).get<ServiceStatus>("/status");
        output().result(status, () => `already up (pid ${pid})\n${renderStatus(status)}`);
        return;
      }
      output().result({ ...handover.status, replaced: pid }, () =>
        [
          `cutover up (pid ${handover.pid}) took over from the daemon of pid ${pid} (${handover.from}); traffic went on throughout`,
          renderStatus(handover.status),
        ].join("\n"),
      );
      return;
    }
    const started = await startDaemonInBackground(loaded);
    const { listen, preview, admin } = loaded.config.router;
    output().result(started.status, () =>
      [
        `cutover up (pid ${started.pid}): ${started.status.service} serving on ${loaded.config.router.tls ? "https" : "http"}://${listen.host}:${listen.port}${loaded.config.router.tls?.redirectHttp ? ` (http://${loaded.config.router.tls.redirectHttp.host}:${loaded.config.router.tls.redirectHttp.port} redirects there)` : ""}`,
        `  preview (idle colour) http://${preview.host}:${preview.port}, admin http://${admin.host}:${admin.port}`,
        `  logs in ${loaded.stateDir}/daemon.log and ${loaded.stateDir}/logs/`,
        renderStatus(started.status),
      ].join("\n"),
    );
  });

program
  .command("daemon", { hidden: true })
  .description("run the daemon in the foreground (what `up` starts)")
  .action(async () => {
    const { runDaemonInForeground } = await import("./commands/daemon-process.js");
    return runDaemonInForeground(config());
  });

program
  .command("preview")
  .description("print a link (and a header) that reach the idle colour through the main address")
  .action(async () => (await import("./commands/preview.js")).previewCommand(config(), output()));

program
  .command("down")
  .description("stop both colours, the router and the daemon (with the daemon gone, the data plane it left)")
  .action(async () => {
    const loaded = config();
    const { stopEverything } = await import("./commands/daemon-process.js");
    const stopped = await stopEverything(loaded);
    if (stopped.daemon === null && stopped.dataPlane === null) {
      output().result({ stopped: false }, () => "cutover is not running");
      return;
    }
    const what = [
      stopped.daemon === null ? null : `daemon pid ${stopped.daemon}`,
      stopped.dataPlane === null ? null : `data plane pid ${stopped.dataPlane}`,
    ].filter((w) => w !== null);
    output().result(
      { stopped: true, pid: stopped.daemon, dataPlane: stopped.dataPlane },
      () => `stopped (${what.join(", ")})`,
    );
  });

program
  .command("deploy")
  .description("deploy <version> to the idle colour, check it, and switch traffic to it")
  .argument("<version>", "the version to deploy (replaces {version} in start.command)")
  .option("--detach", "return once the deploy has started")
  .action(async (version: string, options: { detach?: boolean }) => {
    const fleet = await fleetCommands(config());
    if (fleet) {
      if (options.detach)
        throw new CutoverError(
          "BAD_ARGUMENT",
          "--detach: a fleet deploy runs its waves in this process; run it without --detach",
        );
      process.exitCode = await fleet.fleetDeployCommand(config(), version, output());
      return;
    }
    const { followOperation } = await import("./commands/deploy.js");
    process.exitCode = await withControl((c) =>
      followOperation(c, "deploy", version, options.detach === true, output()),
    );
  });

program
  .command("rollback")
  .description("switch traffic back to the previous colour (starting it again if it was scaled down)")
  .option("--detach", "return once the rollback has started")
  .action(async (options: { detach?: boolean }) => {
    const fleet = await fleetCommands(config());
    if (fleet) {
      process.exitCode = await fleet.fleetRollbackCommand(config(), output());
      return;
    }
    const { followOperation } = await import("./commands/deploy.js");
    process.exitCode = await withControl((c) =>
      followOperation(c, "rollback", undefined, options.detach === true, output()),
    );
  });

program
  .command("promote")
  .description("switch a paused deploy now")
  .action(async () => {
    const fleet = await fleetCommands(config());
    if (fleet) {
      process.exitCode = await fleet.fleetPromoteCommand(config(), output());
      return;
    }
    const { finish } = await import("./commands/deploy.js");
    process.exitCode = finish(await withControl((c) => c.promote()), output());
  });

program
  .command("abort")
  .description("stop the deploy in progress; traffic stays on the live colour")
  .action(async () => {
    const fleet = await fleetCommands(config());
    if (fleet) {
      process.exitCode = await fleet.fleetAbortCommand(config(), output());
      return;
    }
    const record = await withControl((c) => c.abort());
    output().result(record, () => `aborted ${record.id}: ${record.reason ?? ""}`);
  });

program
  .command("status")
  .description(
    "colours, versions, replicas, health, the live colour and any deploy in progress (what .cutover/ recorded when the daemon is down)",
  )
  .option(
    "-w, --watch",
    "show it again at every change, until Ctrl-C (one line per change when not on a terminal)",
  )
  .action(async (options: { watch?: boolean }) => {
    const loaded = config();
    const fleet = await fleetCommands(loaded);
    if (fleet) {
      if (options.watch)
        throw new CutoverError("BAD_ARGUMENT", "--watch on a fleet: add --region NAME to watch one region");
      process.exitCode = await fleet.fleetStatusCommand(loaded, output());
      return;
    }
    const { statusCommand, watchStatus } = await import("./commands/status.js");
    process.exitCode = options.watch
      ? await withControl((c) => watchStatus(loaded, c, output()))
      : await statusCommand(loaded, withControl, output());
  });

program
  .command("history")
  .description("finished deploys and rollbacks, oldest first")
  .option("--limit <n>", "show only the last n", (v) => positiveInt(v, "--limit"))
  .action(async (options: { limit?: number }) => {
    const fleet = await fleetCommands(config());
    if (fleet) return fleet.fleetHistoryCommand(config(), output(), options.limit);
    const { historyCommand } = await import("./commands/status.js");
    await historyCommand(config(), withControl, output(), options.limit);
  });

/**
 * The commands whose modules register them (options and all), by the name typed on the command line.
 * Only the one a command line names is loaded; help, and an unknown command (for its suggestions), load all.
 */
const LAZY_COMMANDS: Readonly<Record<string, () => Promise<void>>> = {
  init: async () =>
    (await import("./commands/init.js")).registerInitCommand(program, {
      configFlag: () => globals().config,
      output,
    }),
  render: async () =>
    (await import("./commands/render.js")).registerRenderCommand(program, { config, output }),
  migrate: async () =>
    (await import("./commands/migrate.js")).registerMigrateCommands(program, { config, output }),
  db: async () => (await import("./commands/db-sync.js")).registerDbCommands(program, { config, output }),
  report: async () =>
    (await import("./commands/report.js")).registerReportCommand(program, { config, output }),
  verify: async () =>
    (await import("./commands/verify.js")).registerVerifyCommand(program, { config, output }),
  dashboard: async () =>
    (await import("./commands/dashboard.js")).registerDashboardCommand(program, { config, output }),
  gatekeeper: async () =>
    (await import("./commands/gatekeeper.js")).registerGatekeeperCommand(program, { config }),
  wait: async () =>
    (await import("./commands/wait.js")).registerWaitCommand(program, { config, output, withControl }),
  logs: async () => (await import("./commands/logs.js")).registerLogsCommand(program, { config }),
  global: async () =>
    (await import("./commands/global.js")).registerGlobalCommand(program, { config, output }),
  edge: async () =>
    (await import("./commands/edge.js")).registerEdgeCommand(program, {
      configFlag: () => globals().config,
      output,
    }),
  pause: async () =>
    (await import("./commands/pause.js")).registerPauseCommand(program, { output, withControl }),
  resume: async () =>
    (await import("./commands/pause.js")).registerResumeCommand(program, { output, withControl }),
  completion: async () =>
    (await import("./commands/completion.js")).registerCompletionCommand(program, {
      registerAll: async () => {
        for (const [name, register] of Object.entries(LAZY_COMMANDS))
          if (!program.commands.some((c) => c.name() === name)) await register();
      },
    }),
};

/** The first word of `args` that is neither an option nor the value of -c/--config: the command's name. */
function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") return args[i + 1];
    if (arg === "-c" || arg === "--config") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/** Registers the lazily loaded commands this command line needs: none, the one it names, or all. */
async function registerLazyCommands(args: readonly string[]): Promise<void> {
  const word = commandWord(args);
  const named = word === undefined ? undefined : LAZY_COMMANDS[word];
  if (named) return named();
  const registered = (name: string) =>
    program.commands.some((c) => c.name() === name || c.aliases().includes(name));
  if (word !== undefined && word !== "help" && registered(word)) return;
  if (word === undefined && args.some((a) => a === "-V" || a === "--version")) return;
  for (const register of Object.values(LAZY_COMMANDS)) await register();
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CutoverError("BAD_ARGUMENT", `${flag} expects a whole number >= 1, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  // Values cutover.yaml reads from the environment (${VAR}) are never printed, whoever prints.
  redactStandardStreams();
  try {
    await registerLazyCommands(process.argv.slice(2));
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ||
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version"
      ? 0
      : EXIT_BAD_INPUT;
  }
  const json = program.opts<GlobalOptions>().json;
  if (error instanceof CutoverError) {
    // A value cutover.yaml read from the environment (${VAR}) never reaches an error message.
    const message = redactSecrets(error.message);
    if (json) process.stdout.write(`${JSON.stringify({ error: error.code, message }, null, 2)}\n`);
    process.stderr.write(`cutover: ${message}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `cutover: unexpected error: ${redactSecrets((error as Error).stack ?? String(error))}\n`,
  );
  return EXIT_FAILED;
}

await main();
