import type { Logger } from "pino";
import { dropCompatSchema } from "../versioned-views.js";
import { type AppliedMigration, forgetCompatSchema } from "./history-table.js";
import { retryOnLockTimeout } from "./retry-on-lock-timeout.js";
import type { SqlClient } from "./sql-client.js";

export interface DropOptions {
  readonly lockTimeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly logger: Logger;
  /** Passed on from the runner's caller; undefined (or absent): nothing aborts it. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Contract: drops every versioned schema of views the applied migrations made (the colour that needed the
 * old names is gone), each in a transaction with lock_timeout, retried like a migration.
 */
export async function dropCompatSchemas(
  client: SqlClient,
  applied: readonly AppliedMigration[],
  options: DropOptions,
): Promise<string[]> {
  const schemas = [...new Set(applied.flatMap((row) => (row.compatSchema ? [row.compatSchema] : [])))];
  for (const schema of schemas) {
    await retryOnLockTimeout(
      async () => {
        await client.query("BEGIN");
        try {
          await client.query(`SET LOCAL lock_timeout = ${Math.round(options.lockTimeoutMs)}`);
          await dropCompatSchema(client, schema, options.logger);
          await forgetCompatSchema(client, schema);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
      },
      {
        retries: options.retries,
        delayMs: options.retryDelayMs,
        logger: options.logger,
        signal: options.signal,
      },
    );
  }
  return schemas;
}
