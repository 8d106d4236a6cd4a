import type { Logger } from "pino";
import type { Colour } from "../colour.js";
import type { DatabaseConfig } from "../config/database-schema.js";
import type { DeployMigrator } from "../engine/ports/deploy-migrator.js";
import { colourDatabaseUrl } from "./colour-connection.js";
import { SchemaRangeError } from "./migration-errors.js";
import type { DatabaseHandle } from "./open-database.js";
import type { MigrationRunner, RunResult } from "./runner/migration-runner.js";
import { checkRanges, requiredRanges } from "./schema-range-check.js";
import { colourSearchPath } from "./versioned-views.js";

export interface SqlDeployMigratorOptions {
  readonly database: DatabaseHandle;
  readonly runner: MigrationRunner;
  readonly config: DatabaseConfig;
  readonly logger: Logger;
}

/** The database side of a deploy, for a PostgreSQL server or the embedded PGlite alike. */
export class SqlDeployMigrator implements DeployMigrator {
  readonly #o: SqlDeployMigratorOptions;
  readonly #log: Logger;
  readonly sync = null;

  constructor(options: SqlDeployMigratorOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "deploy-migrator" });
  }

  async expand(version: string, _target: Colour, signal: AbortSignal): Promise<string> {
    const result = await this.#o.runner.up({ signal });
    await this.#requireRange(version, "before its colour starts");
    const summary = describeRun(result, "applied", "no expand migration pending");
    this.#log.info({ version, summary }, "expand step done");
    return summary;
  }

  async colourEnv(colour: Colour, version: string): Promise<Readonly<Record<string, string>>> {
    const schemaVersion = await this.#o.runner.serviceSchemaVersion(version);
    const searchPath = colourSearchPath(schemaVersion, this.#o.config.schema);
    this.#log.info({ colour, version, searchPath }, "colour database connection");
    return {
      DATABASE_URL: colourDatabaseUrl(this.#o.database.url, searchPath),
      PGOPTIONS: `-c search_path=${searchPath}`,
      CUTOVER_SCHEMA_VERSION: schemaVersion ?? "0",
    };
  }

  async checkSchema(version: string, _colour?: Colour): Promise<string> {
    return this.#requireRange(version, "before the switch");
  }

  async contract(): Promise<string> {
    if (this.#o.config.contract === "manual") {
      const plan = await this.#o.runner.plan();
      const held = plan.contract.map((m) => m.id);
      const summary =
        held.length === 0
          ? "no contract migration held"
          : `${held.join(", ")} held for \`cutover migrate contract\` (database.contract: manual)`;
      this.#log.info({ held }, summary);
      return summary;
    }
    const result = await this.#o.runner.contract();
    const summary = describeRun(result, "contracted", "no contract migration held");
    const dropped = result.droppedSchemas.length > 0 ? `; dropped ${result.droppedSchemas.join(", ")}` : "";
    return `${summary}${dropped}`;
  }

  async close(): Promise<void> {
    await this.#o.database.close();
  }

  async #requireRange(version: string, when: string): Promise<string> {
    const required = requiredRanges(this.#o.config.requires, version);
    if (required.length === 0) return `no schema range declared for ${version}`;
    const verdict = checkRanges(version, required, await this.#o.runner.entries());
    if (verdict.problems.length > 0) {
      throw new SchemaRangeError(`schema check ${when} failed: ${verdict.problems.join("; ")}`);
    }
    const ranges = required.map((r) => `${r.range.text} ("${r.pattern}")`).join(", ");
    return `schema ${(await this.#o.runner.schemaVersion()) ?? "(none)"} satisfies ${ranges}`;
  }
}

function describeRun(result: RunResult, verb: string, nothing: string): string {
  const warnings = result.warnings.length > 0 ? ` (${result.warnings.length} lint warning(s))` : "";
  if (result.applied.length === 0) return `${nothing}; schema ${result.schemaVersion ?? "(none)"}`;
  const retried = result.applied.reduce((sum, r) => sum + r.retries, 0);
  const retries = retried > 0 ? `, ${retried} retry(ies) after lock_timeout` : "";
  return `${verb} ${result.applied.map((r) => r.id).join(", ")}; schema ${result.schemaVersion}${retries}${warnings}`;
}
