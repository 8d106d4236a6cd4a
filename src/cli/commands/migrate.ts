import { type Command, Option } from "commander";
import { destination, type Logger, pino } from "pino";
import type { DatabaseConfig } from "../../config/database-schema.js";
import { redactSecrets } from "../../config/interpolate.js";
import { CONFIG_FILE, type LoadedConfig } from "../../config/load.js";
import type { LintReport } from "../../db/lint/lint-migration.js";
import { renderLintReports } from "../../db/lint/render-findings.js";
import type { Migration } from "../../db/migration.js";
import type { DatabaseHandle } from "../../db/open-database.js";
import { readMigrationFile, readMigrations } from "../../db/read-migrations.js";
import type { MigrationRunner } from "../../db/runner/migration-runner.js";
import type { MigrationEntry } from "../../db/runner/migration-states.js";
import { runnerSettings } from "../../db/runner/runner-settings.js";
import { ConfigError, CutoverError, EXIT_FAILED } from "../../errors.js";
import type { Output } from "../output.js";
import { renderDryRun, renderMigrationStatus, renderPlan, renderRun } from "./migrate-render.js";

export interface MigrateContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

/**
 * `cutover migrate status | lint | plan | up | down | contract`. Logs (JSON lines) go to stderr at
 * CUTOVER_LOG_LEVEL (default warn); results go to stdout, as JSON with --json.
 */
export function registerMigrateCommands(program: Command, context: MigrateContext): void {
  const migrate = program
    .command("migrate")
    .description("database migrations that keep blue and green working side by side (expand/contract)");

  migrate
    .command("status")
    .description("applied and pending migrations, their phase and checksum state, and the schema version")
    .action(() =>
      withRunner(context, async (runner, database) => {
        const status = await runner.status();
        context
          .output()
          .result({ ...status, database: database.where, entries: status.entries.map(entryJson) }, () =>
            renderMigrationStatus(status, database.where),
          );
      }),
    );

  migrate
    .command("lint")
    .description("check migrations for changes that break the running version or block traffic")
    .argument("[files...]", "migration files (default: every file in database.migrations)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (files: string[], options: { format: "text" | "json" }) => {
      const reports = await lint(context, files);
      const { blockingFindings } = await import("../../db/lint/lint-migration.js");
      const json = options.format === "json" || context.output().json;
      process.stdout.write(
        json ? `${JSON.stringify(reports, null, 2)}\n` : `${renderLintReports(reports)}\n`,
      );
      if (blockingFindings(reports).length > 0) process.exitCode = EXIT_FAILED;
    });

  migrate
    .command("plan")
    .description("what a deploy would run now, in which phase, with the lint verdict")
    .action(() =>
      withRunner(context, async (runner) => {
        const plan = await runner.plan();
        context.output().result(planJson(plan), () => renderPlan(plan));
      }),
    );

  migrate
    .command("up")
    .description("apply pending expand migrations (contract ones need --contract)")
    .option("--dry-run", "apply in a transaction and roll it back, listing durations and locks")
    .option("--contract", "also apply held contract migrations (only once no colour needs the old schema)")
    .action((options: { dryRun?: boolean; contract?: boolean }) =>
      withRunner(context, async (runner) => {
        if (options.dryRun) {
          const report = await runner.dryRun({ contract: options.contract === true });
          context.output().result(report, () => renderDryRun(report));
          if (report.error !== null) process.exitCode = EXIT_FAILED;
          return;
        }
        const result = await runner.up({ contract: options.contract === true });
        context.output().result(result, () => renderRun(result, "applied"));
      }),
    );

  migrate
    .command("down")
    .description("roll back applied migrations with their down parts (default: the last one)")
    .option("--to <version>", "roll back every migration above this version (0: all)", versionArgument)
    .action((options: { to?: string }) =>
      withRunner(context, async (runner) => {
        const result = await runner.down(options.to === undefined ? {} : { to: options.to });
        context.output().result(result, () => renderRun(result, "rolled back"));
      }),
    );

  migrate
    .command("contract")
    .description(
      "run held contract migrations and drop the versioned views, once no colour needs the old schema",
    )
    .action(() =>
      withRunner(context, async (runner) => {
        const result = await runner.contract();
        context.output().result(result, () => renderRun(result, "contracted"));
      }),
    );
}

function databaseConfig(loaded: LoadedConfig): DatabaseConfig {
  const config = loaded.config.database;
  if (!config) {
    throw new CutoverError(
      "NO_DATABASE",
      `${loaded.file} has no database: section; add one (at least \`database: { migrations: migrations }\`)`,
    );
  }
  return config;
}

function cliLogger(): Logger {
  return pino(
    { level: process.env.CUTOVER_LOG_LEVEL ?? "warn", hooks: { streamWrite: redactSecrets } },
    destination({ dest: 2, sync: true }),
  );
}

async function withRunner(
  context: MigrateContext,
  work: (runner: MigrationRunner, database: DatabaseHandle) => Promise<void>,
): Promise<void> {
  const loaded = context.config();
  const config = databaseConfig(loaded);
  const logger = cliLogger();
  // The database drivers load only for the commands that use them, not for every `cutover` call.
  const [{ openDatabase }, { MigrationRunner }] = await Promise.all([
    import("../../db/open-database.js"),
    import("../../db/runner/migration-runner.js"),
  ]);
  const database = await openDatabase(loaded, config, logger, "share");
  try {
    await work(
      new MigrationRunner({ ...runnerSettings(loaded, config), url: database.url, logger }),
      database,
    );
  } finally {
    await database.close();
  }
}

/** Lints the given files, or the config's folder; with files and no cutover.yaml, cutover's defaults apply. */
async function lint(context: MigrateContext, files: readonly string[]): Promise<LintReport[]> {
  let loaded: LoadedConfig | null = null;
  try {
    loaded = context.config();
  } catch (error) {
    if (!(error instanceof ConfigError) || files.length === 0) throw error;
  }
  const config = loaded?.config.database;
  let migrations: Migration[];
  if (files.length > 0) migrations = await Promise.all(files.map((file) => readMigrationFile(file)));
  else if (loaded) migrations = await readMigrations(runnerSettings(loaded, databaseConfig(loaded)).folder);
  else throw new CutoverError("NO_FILES", `name migration files, or run next to ${CONFIG_FILE}`);
  const { lintMigrations } = await import("../../db/lint/lint-migration.js"); // the PostgreSQL parser
  return lintMigrations(migrations, {
    lockTimeoutMs: config?.lockTimeout ?? 1_000,
    baseSchema: config?.schema ?? "public",
  });
}

function versionArgument(value: string): string {
  if (!/^\d+$/.test(value)) {
    throw new CutoverError("BAD_ARGUMENT", `--to expects a migration version such as 0002, got "${value}"`);
  }
  return value;
}

function entryJson(entry: MigrationEntry) {
  const { migration, ...rest } = entry;
  return { ...rest, file: migration?.file ?? null, checksum: migration?.checksum ?? null };
}

function planJson(plan: Awaited<ReturnType<MigrationRunner["plan"]>>) {
  const ids = (list: readonly Migration[]) => list.map((m) => ({ id: m.id, phase: m.phase, file: m.file }));
  return { ...plan, expand: ids(plan.expand), contract: ids(plan.contract) };
}
