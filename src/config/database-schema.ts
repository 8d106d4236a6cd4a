import { z } from "zod";
import { duration } from "./duration-field.js";

/** What a deploy does with pending contract migrations once the old colour has stopped. */
export const CONTRACT_MODES = ["auto", "manual"] as const;
export type ContractMode = (typeof CONTRACT_MODES)[number];

/** How the colours' databases relate: one shared database (off), or one each kept in sync (logical). */
export const SYNC_MODES = ["off", "logical"] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

/** What a runner does when another runner holds the migration lock. */
export const LOCK_BUSY_MODES = ["wait", "fail"] as const;
export type LockBusyMode = (typeof LOCK_BUSY_MODES)[number];

/** The schema versions a service version works with: both bounds inclusive, either may be absent. */
export interface SchemaRange {
  /** Every migration up to and including this version must be applied. */
  readonly min: string | null;
  /** No contract migration above this version may be applied (expand migrations never break a version). */
  readonly max: string | null;
  /** As written in cutover.yaml, for messages. */
  readonly text: string;
}

const VERSION = /^\d{1,9}$/;

/** ">=0002", "<=0004", ">=0002 <=0004" or "0002..0004". */
export function parseSchemaRange(text: string): SchemaRange | undefined {
  const trimmed = text.trim();
  const dots = trimmed.split("..");
  if (dots.length === 2) {
    const [min, max] = dots.map((part) => part.trim());
    if (!min || !max || !VERSION.test(min) || !VERSION.test(max)) return undefined;
    return { min, max, text: trimmed };
  }
  let min: string | null = null;
  let max: string | null = null;
  for (const part of trimmed.split(/\s+/)) {
    const bound = part.startsWith(">=") ? "min" : part.startsWith("<=") ? "max" : null;
    const value = part.slice(2);
    if (bound === null || !VERSION.test(value)) return undefined;
    if (bound === "min") min = value;
    else max = value;
  }
  if (min === null && max === null) return undefined;
  return { min, max, text: trimmed };
}

const schemaRange = z
  .string()
  .transform((value, ctx): SchemaRange => {
    const range = parseSchemaRange(value);
    if (!range) {
      ctx.addIssue({
        code: "custom",
        message: 'expected a schema range such as ">=0002", "<=0004", ">=0002 <=0004" or "0002..0004"',
      });
      return z.NEVER;
    }
    return range;
  })
  .meta({ description: 'Migration versions, e.g. ">=0002", "<=0004", "0002..0004".' });

/** "2.x", "2.1.x", "2.*", "*" or an exact version such as "2.0.0". */
const versionPattern = z
  .string()
  .regex(
    /^(\*|[0-9A-Za-z-]+(\.([0-9A-Za-z-]+|x|\*))*)$/,
    'expected a version pattern such as "2.x" or "2.0.0"',
  );

const embeddedSchema = z
  .strictObject({
    dataDir: z
      .string()
      .default("pglite")
      .meta({ description: "PGlite's data folder, relative to stateDir." }),
    host: z
      .string()
      .default("127.0.0.1")
      .meta({ description: "Where the colours reach it; keep it on loopback." }),
    port: z.int().min(0).max(65535).default(0).meta({
      description:
        "Port of the Postgres wire protocol server (pglite-socket) the colours connect to; 0 picks a free one.",
    }),
  })
  .prefault({})
  .meta({ description: "The embedded database (PGlite), used when no server URL is given." });

const advisoryLockSchema = z
  .strictObject({
    whenBusy: z.enum(LOCK_BUSY_MODES).default("wait").meta({
      description: "Another runner holds the migration lock: wait for it (polling), or fail at once.",
    }),
    waitTimeout: duration("5m").meta({ description: "How long to wait for the lock before giving up." }),
    pollInterval: duration("250ms").meta({ description: "Time between two pg_try_advisory_lock calls." }),
  })
  .prefault({})
  .meta({ description: "The session advisory lock that keeps two runners from migrating at once." });

export const databaseSchema = z
  .strictObject({
    migrations: z
      .string()
      .default("migrations")
      .meta({ description: "Folder of NNNN_name.sql files, relative to cutover.yaml." }),
    url: z.string().optional().meta({
      description:
        "PostgreSQL server, postgres://user:password@host:5432/db. Without it, DATABASE_URL of the cutover process; without that, the embedded PGlite database.",
    }),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case schema name such as public")
      .default("public")
      .meta({ description: "The schema the service's tables live in." }),
    embedded: embeddedSchema,
    lockTimeout: duration("1s").meta({
      description:
        "lock_timeout of every migration: the longest the service's queries can queue behind a migration's lock.",
    }),
    statementTimeout: duration("10m").meta({
      description: "statement_timeout of every migration statement.",
    }),
    retries: z.int().min(0).max(100).default(5).meta({
      description: "Retries of a migration that gave up on lock_timeout (SQLSTATE 55P03).",
    }),
    retryDelay: duration("500ms").meta({
      description: "Delay before the first retry; doubled (with jitter) for each next one, at most 30s.",
    }),
    advisoryLock: advisoryLockSchema,
    contract: z.enum(CONTRACT_MODES).default("auto").meta({
      description:
        "auto: a deploy runs pending contract migrations once the old colour has stopped; manual: it only reports them, for `cutover migrate contract`.",
    }),
    requires: z.record(versionPattern, schemaRange).default({}).meta({
      description:
        'The schema range each service version needs, e.g. { "1.x": "<=0003", "2.x": ">=0002" }; checked before the new colour starts and before the switch.',
    }),
    sync: z.enum(SYNC_MODES).default("off").meta({
      description:
        "off: both colours share database.url. logical: blue runs on database.url and green on database.green.url, and cutover keeps the idle colour's database in sync with the live one by PostgreSQL logical replication, with a switchover that holds requests until it has caught up.",
    }),
    green: z
      .strictObject({
        url: z.string().meta({ description: "Green's PostgreSQL database, with database.sync: logical." }),
      })
      .optional()
      .meta({ description: "Green's own database (database.sync: logical); blue's is database.url." }),
    switchoverTimeout: duration("30s").meta({
      description:
        "database.sync: logical: the longest requests are held at a switch while the new colour's database catches up; past it, traffic and writes stay on the old colour and the deploy aborts.",
    }),
    copyTimeout: duration("1h").meta({
      description: "database.sync: logical: the longest the initial copy of the live database may take.",
    }),
  })
  .superRefine((database, ctx) => {
    if (database.sync === "logical") {
      if (database.url === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["url"],
          input: database.url,
          message:
            "database.sync: logical needs blue's database here (a PostgreSQL server URL; the embedded database cannot replicate)",
        });
      }
      if (database.green === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["green"],
          input: database.green,
          message: "database.sync: logical needs green's database: add green: { url: postgres://... }",
        });
      }
    } else if (database.green !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["green"],
        input: database.green,
        message:
          "database.green is only used with database.sync: logical; add sync: logical, or remove green",
      });
    }
  })
  .optional()
  .meta({ description: "Database migrations run by deploys (expand before the switch, contract after)." });

export type DatabaseConfig = NonNullable<z.output<typeof databaseSchema>>;
