#!/usr/bin/env node
import { existsSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { CONFIG_FILE, type LoadedConfig, loadConfig } from "../config/load.js";
import { configJsonSchema } from "../config/schema.js";
import { configTemplate } from "../config/template.js";
import type { ServiceStatus } from "../engine/service-status.js";
import { CutoverError, EXIT_BAD_INPUT, EXIT_FAILED } from "../errors.js";
import { latestReport } from "../report/report-location.js";
import { AdminClient } from "./admin-client.js";
import {
  runDaemonInForeground,
  runningDaemonPid,
  startDaemonInBackground,
} from "./commands/daemon-process.js";
import { registerDashboardCommand } from "./commands/dashboard.js";
import { finish, followOperation } from "./commands/deploy.js";
import { registerGatekeeperCommand } from "./commands/gatekeeper.js";
import { registerMigrateCommands } from "./commands/migrate.js";
import { registerRenderCommand } from "./commands/render.js";
import { registerReportCommand } from "./commands/report.js";
import { registerVerifyCommand } from "./commands/verify.js";
import { controlFor } from "./control-for-config.js";
import type { ControlPlane } from "./control-plane.js";
import { Output } from "./output.js";
import { renderHistory, renderStatus } from "./render.js";

interface GlobalOptions {
  config: string;
  json?: boolean;
}

const program = new Command()
  .name("cutover")
  .description(
    "Zero-downtime blue-green deployments: start the new version beside the live one, check it, switch.",
  )
  .version("0.1.0")
  .addOption(new Option("-c, --config <file>", "the service's config").default(CONFIG_FILE))
  .option("--json", "print machine-readable JSON")
  .showHelpAfterError()
  .exitOverride();

const globals = () => program.opts<GlobalOptions>();
const output = () => new Output(Boolean(globals().json));
const config = (): LoadedConfig => loadConfig(globals().config);
/** Runs `action` with the control plane of the config's platform, and closes it after. */
async function withControl<T>(action: (control: ControlPlane) => Promise<T>): Promise<T> {
  const control = await controlFor(config());
  try {
    return await action(control);
  } finally {
    await control.close();
  }
}

program
  .command("init")
  .description("write a commented cutover.yaml")
  .option("--force", "overwrite an existing file")
  .option("--service <name>", "the service's name (default: this folder's name)")
  .action((options: { force?: boolean; service?: string }) => {
    const path = resolve(globals().config);
    if (existsSync(path) && !options.force) {
      throw new CutoverError("EXISTS", `${path} already exists; pass --force to overwrite it`);
    }
    const service =
      options.service ??
      (basename(dirname(path))
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-") ||
        "app");
    writeFileSync(path, configTemplate(service.replace(/^-+|-+$/g, "") || "app"));
    output().result({ written: path }, () => `wrote ${path}; edit start.command, then run \`cutover up\``);
  });

program
  .command("schema")
  .description("print the JSON Schema of cutover.yaml (for editors)")
  .action(() => {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

registerRenderCommand(program, { config, output });

program
  .command("up")
  .description("start the router and supervisor daemon, serving the current version")
  .option("--foreground", "run the daemon in this process instead of in the background")
  .action(async (options: { foreground?: boolean }) => {
    const loaded = config();
    if (options.foreground) return runDaemonInForeground(loaded);
    const pid = runningDaemonPid(loaded);
    if (pid !== null) {
      const status = await AdminClient.forConfig(loaded).get<ServiceStatus>("/status");
      output().result(status, () => `already up (pid ${pid})\n${renderStatus(status)}`);
      return;
    }
    const started = await startDaemonInBackground(loaded);
    const { listen, preview, admin } = loaded.config.router;
    output().result(started.status, () =>
      [
        `cutover up (pid ${started.pid}): ${started.status.service} serving on http://${listen.host}:${listen.port}`,
        `  preview (idle colour) http://${preview.host}:${preview.port}, admin http://${admin.host}:${admin.port}`,
        `  logs in ${loaded.stateDir}/daemon.log and ${loaded.stateDir}/logs/`,
        renderStatus(started.status),
      ].join("\n"),
    );
  });

program
  .command("daemon", { hidden: true })
  .description("run the daemon in the foreground (what `up` starts)")
  .action(() => runDaemonInForeground(config()));

program
  .command("down")
  .description("stop both colours, the router and the daemon")
  .action(async () => {
    const loaded = config();
    const pid = runningDaemonPid(loaded);
    if (pid === null) {
      output().result({ stopped: false }, () => "cutover is not running");
      return;
    }
    await AdminClient.forConfig(loaded).post("/shutdown");
    const deadline = Date.now() + 60_000;
    while (runningDaemonPid(loaded) === pid && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    if (runningDaemonPid(loaded) === pid)
      throw new CutoverError("STOP_TIMEOUT", `the daemon (pid ${pid}) is still running`);
    output().result({ stopped: true, pid }, () => `stopped (pid ${pid})`);
  });

program
  .command("deploy")
  .description("deploy <version> to the idle colour, check it, and switch traffic to it")
  .argument("<version>", "the version to deploy (replaces {version} in start.command)")
  .option("--detach", "return once the deploy has started")
  .action(async (version: string, options: { detach?: boolean }) => {
    process.exitCode = await withControl((c) =>
      followOperation(c, "deploy", version, options.detach === true, output()),
    );
  });

program
  .command("rollback")
  .description("switch traffic back to the previous colour (starting it again if it was scaled down)")
  .option("--detach", "return once the rollback has started")
  .action(async (options: { detach?: boolean }) => {
    process.exitCode = await withControl((c) =>
      followOperation(c, "rollback", undefined, options.detach === true, output()),
    );
  });

program
  .command("promote")
  .description("switch a paused deploy now")
  .action(async () => {
    process.exitCode = finish(await withControl((c) => c.promote()), output());
  });

program
  .command("abort")
  .description("stop the deploy in progress; traffic stays on the live colour")
  .action(async () => {
    const record = await withControl((c) => c.abort());
    output().result(record, () => `aborted ${record.id}: ${record.reason ?? ""}`);
  });

program
  .command("status")
  .description("colours, versions, replicas, health, the live colour and any deploy in progress")
  .action(async () => {
    const status = await withControl((c) => c.status());
    const report = latestReport(config());
    output().result({ ...status, latestReport: report }, () =>
      report ? `${renderStatus(status)}\n\nlatest report: ${report}` : renderStatus(status),
    );
  });

program
  .command("history")
  .description("finished deploys and rollbacks, oldest first")
  .option("--limit <n>", "show only the last n", (v) => positiveInt(v, "--limit"))
  .action(async (options: { limit?: number }) => {
    const all = await withControl((c) => c.history());
    const shown = options.limit ? all.slice(-options.limit) : all;
    output().result(shown, () => renderHistory(shown));
  });

registerMigrateCommands(program, { config, output });
registerReportCommand(program, { config, output });
registerVerifyCommand(program, { config, output });
registerDashboardCommand(program, { config, output });
registerGatekeeperCommand(program, { config });

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CutoverError("BAD_ARGUMENT", `${flag} expects a whole number >= 1, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  try {
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
    if (json)
      process.stdout.write(`${JSON.stringify({ error: error.code, message: error.message }, null, 2)}\n`);
    process.stderr.write(`cutover: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`cutover: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  return EXIT_FAILED;
}

await main();
