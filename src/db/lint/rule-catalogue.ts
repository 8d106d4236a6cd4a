import type { Phase } from "../migration.js";

/** Every rule's stable id. Ids never change meaning; new rules get new ids. */
export const RULE_IDS = [
  "rename-column",
  "rename-table",
  "drop-column",
  "drop-table",
  "drop-schema",
  "rename-schema",
  "drop-database",
  "drop-view",
  "replace-view",
  "rename-view",
  "drop-function",
  "replace-function",
  "rename-function",
  "drop-type",
  "rename-type",
  "rename-enum-value",
  "drop-sequence",
  "rename-sequence",
  "restart-sequence",
  "drop-trigger",
  "replace-trigger",
  "drop-policy",
  "alter-policy",
  "drop-rule",
  "replace-rule",
  "add-column-not-null-without-default",
  "volatile-default",
  "add-stored-generated-column",
  "set-not-null",
  "drop-not-null",
  "alter-column-type",
  "create-index-non-concurrently",
  "drop-index-non-concurrently",
  "reindex-non-concurrently",
  "concurrently-in-transaction",
  "add-unique-constraint",
  "add-primary-key-constraint",
  "add-check-without-not-valid",
  "add-foreign-key-without-not-valid",
  "drop-constraint",
  "require-lock-timeout",
  "truncate-cascade",
  "enum-add-value-in-transaction",
  "cluster",
  "vacuum-full",
  "transaction-control",
  "syntax-error",
  "invalid-suppression",
  "unused-suppression",
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SEVERITIES = ["error", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Rule {
  readonly id: RuleId;
  /** Why it breaks the version still running, or blocks traffic. */
  readonly why: string;
  /** What to write instead. */
  readonly instead: string;
  /** Severity in each phase; null: fine in that phase. */
  readonly severity: Readonly<Record<Phase, Severity | null>>;
  /** The squawk rule that catches the same pattern, for people who know squawk. */
  readonly squawk?: string;
}

const always = { expand: "error", contract: "error" } as const;
const expandOnly = { expand: "error", contract: null } as const;
/** Breaks the old version in expand; in contract it breaks the new one if the new one uses the old name or value. */
const contractWarns = { expand: "error", contract: "warning" } as const;

const RULES: readonly Rule[] = [
  {
    id: "rename-column",
    why: "the running version still reads and writes the old name",
    instead:
      "in an expand migration cutover keeps the old name alive for the old colour through a versioned schema of views (its DATABASE_URL sets the search_path); " +
      "the app must connect with that DATABASE_URL. In a contract migration, rename nothing the new version uses",
    severity: { expand: "warning", contract: "error" },
    squawk: "renaming-column",
  },
  {
    id: "rename-table",
    why: "the running version still queries the old table name",
    instead:
      "in an expand migration cutover serves the old name to the old colour as a view in a versioned schema (the app must connect with the DATABASE_URL cutover hands it); " +
      "or create a new table and a view with the old name",
    severity: { expand: "warning", contract: "error" },
    squawk: "renaming-table",
  },
  {
    id: "drop-column",
    why: "the running version still reads and writes this column; its queries fail the moment it is gone",
    instead:
      "stop using the column in the new version, and drop it in a contract migration (runs after the old colour has stopped)",
    severity: expandOnly,
    squawk: "ban-drop-column",
  },
  {
    id: "drop-table",
    why: "the running version still queries this table",
    instead: "drop it in a contract migration, once no running version uses it",
    severity: expandOnly,
    squawk: "ban-drop-table",
  },
  {
    id: "drop-schema",
    why: "the running version may still use objects in this schema",
    instead: "drop it in a contract migration, once no running version uses it",
    severity: expandOnly,
  },
  {
    id: "rename-schema",
    why: "the running version names the schema (in its search_path or in qualified names such as reporting.orders): its queries fail once the old name is gone",
    instead:
      "create a schema under the new name for the new version (CREATE SCHEMA reporting_v2) and drop the old one in a contract migration once no running version uses it",
    severity: contractWarns,
  },
  {
    id: "drop-database",
    why: "the running version loses its whole database",
    instead: "never in a migration; drop databases by hand once nothing connects to them",
    severity: always,
    squawk: "ban-drop-database",
  },
  {
    id: "drop-view",
    why: "the running version still queries this view: its queries fail the moment it is gone",
    instead:
      "keep the view until no running version uses it, and drop it in a contract migration; to change it for the new version, create a view under a new name (CREATE VIEW orders_v2 AS ...) and query that from the new version",
    severity: expandOnly,
  },
  {
    id: "replace-view",
    why: "the running version queries this view: CREATE OR REPLACE VIEW changes the rows and values it reads under it, and may add columns it does not expect",
    instead:
      "create the new definition under a new name (CREATE VIEW orders_v2 AS ...), query it from the new version, and drop the old view in a contract migration once no running version uses it; if the view does not exist yet, write CREATE VIEW without OR REPLACE",
    severity: expandOnly,
  },
  {
    id: "rename-view",
    why: "the running version queries the view, and its columns, by their old names: its queries fail",
    instead:
      "create a view with the new names for the new version (CREATE VIEW orders_v2 AS ...) and drop the old one in a contract migration once no running version uses it",
    severity: contractWarns,
  },
  {
    id: "drop-function",
    why: "the running version still calls this function (in its SQL, or through a trigger, default or view that uses it): those calls fail once it is gone",
    instead:
      "keep the function until no running version calls it, and drop it in a contract migration; to change it for the new version, create a function under a new name (CREATE FUNCTION total_v2(...)) and call that from the new version",
    severity: expandOnly,
  },
  {
    id: "replace-function",
    why: "the running version calls this function: CREATE OR REPLACE changes what its calls (and the triggers, defaults and views that use it) do under it, while it still expects the old behaviour",
    instead:
      "create the new body under a new name (CREATE FUNCTION total_v2(...)), call it from the new version, and drop the old function in a contract migration once no running version calls it; if the function does not exist yet, write CREATE FUNCTION without OR REPLACE",
    severity: expandOnly,
  },
  {
    id: "rename-function",
    why: "the running version calls the function by its old name: its calls fail",
    instead:
      "create the function under the new name (CREATE FUNCTION total_v2(...)) for the new version, and drop the old one in a contract migration once no running version calls it",
    severity: contractWarns,
  },
  {
    id: "drop-type",
    why: "the running version reads and writes values of this type (columns, casts such as 'ok'::mood, function arguments): DROP TYPE fails while a column uses it, and with CASCADE drops those columns",
    instead:
      "keep the type until no running version uses it, and drop it in a contract migration; for a changed type, create one under a new name (CREATE TYPE mood_v2 AS ENUM (...)) and move columns to it in steps",
    severity: expandOnly,
  },
  {
    id: "rename-type",
    why: "the running version names the type, or a composite type's attributes, in its SQL (casts such as 'ok'::mood, function signatures): that SQL fails",
    instead:
      "create a type under the new name for the new version (CREATE TYPE mood_v2 ...), and drop the old one in a contract migration once no running version uses it",
    severity: contractWarns,
  },
  {
    id: "rename-enum-value",
    why: "the running version still writes and compares the old label: its INSERTs and WHERE clauses with it fail with invalid input value for enum",
    instead:
      "ALTER TYPE ... ADD VALUE the new label; have the new version write the new label and read both; update rows in batches; stop using the old label in a contract migration (PostgreSQL cannot drop an enum value: leave it unused, or move to a new type)",
    severity: contractWarns,
  },
  {
    id: "drop-sequence",
    why: "the running version's INSERTs take ids from this sequence (a column default, or nextval in its SQL): they fail once it is gone, and with CASCADE the column defaults that use it are dropped",
    instead: "keep the sequence until no running version uses it, and drop it in a contract migration",
    severity: expandOnly,
  },
  {
    id: "rename-sequence",
    why: "the running version calls nextval, currval or setval with the sequence's old name (column defaults follow the rename, its own SQL does not): those calls fail",
    instead:
      "keep the name while a running version uses it; if the new version needs another sequence, create one under a new name (CREATE SEQUENCE orders_v2_id_seq START WITH <above the old one's value>) and drop the old one in a contract migration",
    severity: contractWarns,
  },
  {
    id: "restart-sequence",
    why: "the running version's INSERTs take ids from this sequence: RESTART hands out ids that rows already have, so INSERTs fail on the primary key or point at the wrong rows",
    instead:
      "leave the sequence where it is; to move it on, setval to a value above every id in use (SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))), never back",
    severity: contractWarns,
  },
  {
    id: "drop-trigger",
    why: "the running version relies on what the trigger does to its writes (keeping a copied column in step, an audit row, a computed value): without it, its writes leave data it does not expect",
    instead:
      "keep the trigger while a running version relies on it, and drop it in a contract migration; to change what it does, add a trigger under a new name (CREATE TRIGGER orders_sync_v2 ... EXECUTE FUNCTION orders_sync_v2()) that does what both versions need",
    severity: expandOnly,
  },
  {
    id: "replace-trigger",
    why: "the trigger fires on the running version's writes: CREATE OR REPLACE TRIGGER changes what happens to them under it, while it still expects the old behaviour",
    instead:
      "add a trigger under a new name (CREATE TRIGGER orders_sync_v2 ...) that keeps what the running version relies on, and drop the old one in a contract migration; if the trigger does not exist yet, write CREATE TRIGGER without OR REPLACE",
    severity: expandOnly,
  },
  {
    id: "drop-policy",
    why: "row security policies decide which rows the running version's role sees and may write: without this one its queries see or accept other rows than it expects (none at all when it was the last)",
    instead:
      "keep the policy until no running version relies on it, and drop it in a contract migration; to widen access for the new version, add a policy under a new name (CREATE POLICY orders_v2 ON orders ...; permissive policies add up)",
    severity: expandOnly,
  },
  {
    id: "alter-policy",
    why: "ALTER POLICY changes at once which rows every session of its roles sees and may write, the running version's too",
    instead:
      "add a policy under a new name for the new version (CREATE POLICY orders_v2 ON orders ...; permissive policies add up, so this only widens access), and drop or alter the old one in a contract migration once no running version relies on it",
    severity: expandOnly,
  },
  {
    id: "drop-rule",
    why: "a rewrite rule changes what the running version's queries on the table or view do (e.g. an INSTEAD rule makes a view writable): dropping it changes them under it",
    instead:
      "keep the rule while a running version relies on it, and drop it in a contract migration; for new behaviour, create a view under a new name (CREATE VIEW orders_v2 ...) with its own rules for the new version",
    severity: expandOnly,
  },
  {
    id: "replace-rule",
    why: "CREATE OR REPLACE RULE changes what the running version's queries on the table or view do, under it",
    instead:
      "create a view under a new name (CREATE VIEW orders_v2 ...) with the new rule for the new version, and drop the old rule in a contract migration; if the rule does not exist yet, write CREATE RULE without OR REPLACE",
    severity: expandOnly,
  },
  {
    id: "add-column-not-null-without-default",
    why: "fails on a table that has rows, and the running version's INSERTs, which do not name the column, fail",
    instead:
      "add the column nullable (or with a constant DEFAULT), backfill it, then enforce NOT NULL in a later migration (CHECK ... NOT VALID, VALIDATE, SET NOT NULL)",
    severity: always,
    squawk: "adding-required-field",
  },
  {
    id: "volatile-default",
    why: "a volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval/serial, identity) rewrites the whole table under an ACCESS EXCLUSIVE lock, blocking all reads and writes",
    instead:
      "add the column without a default (or with a constant one), then ALTER COLUMN ... SET DEFAULT for new rows, and backfill existing rows in batches",
    severity: always,
    squawk: "adding-field-with-default",
  },
  {
    id: "add-stored-generated-column",
    why: "a stored generated column is computed for every row at once: a table rewrite under ACCESS EXCLUSIVE",
    instead:
      "add a plain nullable column, fill it with a trigger for new rows and a batched backfill for old ones",
    severity: always,
    squawk: "adding-field-with-default",
  },
  {
    id: "set-not-null",
    why: "scans the whole table under ACCESS EXCLUSIVE, and the running version may still write NULL, whose writes then fail",
    instead:
      "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; then VALIDATE CONSTRAINT c (another migration, no write lock); then SET NOT NULL skips the scan (PostgreSQL 12+)",
    severity: always,
    squawk: "adding-not-nullable-field",
  },
  {
    id: "drop-not-null",
    why: "the new version may write NULLs the running version does not expect to read",
    instead: "drop NOT NULL in a contract migration, after the old version has stopped",
    severity: expandOnly,
    squawk: "ban-drop-not-null",
  },
  {
    id: "alter-column-type",
    why: "most type changes rewrite the table under ACCESS EXCLUSIVE, and the running version reads the old type",
    instead:
      "add a column of the new type, keep both in step with a trigger, backfill in batches, switch readers, drop the old column in contract (varchar to text is safe)",
    severity: always,
    squawk: "changing-column-type",
  },
  {
    id: "create-index-non-concurrently",
    why: "CREATE INDEX blocks every write to the table until the index is built",
    instead: "CREATE INDEX CONCURRENTLY (cutover runs it alone, outside a transaction)",
    severity: always,
    squawk: "require-concurrent-index-creation",
  },
  {
    id: "drop-index-non-concurrently",
    why: "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table, blocking reads and writes",
    instead: "DROP INDEX CONCURRENTLY (cutover runs it alone, outside a transaction)",
    severity: always,
    squawk: "require-concurrent-index-deletion",
  },
  {
    id: "reindex-non-concurrently",
    why: "REINDEX blocks writes to the table (and reads that use the index) until it is done",
    instead: "REINDEX ... CONCURRENTLY (PostgreSQL 12+; cutover runs it alone, outside a transaction)",
    severity: always,
    squawk: "require-concurrent-reindex",
  },
  {
    id: "concurrently-in-transaction",
    why: "a CONCURRENTLY statement cannot run inside a transaction block: the migration fails",
    instead:
      "remove BEGIN/COMMIT; cutover runs CONCURRENTLY statements alone and records the migration as non-transactional",
    severity: always,
    squawk: "ban-concurrent-index-creation-in-transaction",
  },
  {
    id: "add-unique-constraint",
    why: "builds the unique index under an ACCESS EXCLUSIVE lock, blocking reads and writes, and fails on duplicates",
    instead:
      "CREATE UNIQUE INDEX CONCURRENTLY i ON t (c); then ALTER TABLE t ADD CONSTRAINT c_key UNIQUE USING INDEX i",
    severity: always,
    squawk: "disallowed-unique-constraint",
  },
  {
    id: "add-primary-key-constraint",
    why: "builds the primary key's index under an ACCESS EXCLUSIVE lock, blocking reads and writes",
    instead:
      "CREATE UNIQUE INDEX CONCURRENTLY i ON t (id); then ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX i",
    severity: always,
    squawk: "adding-serial-primary-key-field",
  },
  {
    id: "add-check-without-not-valid",
    why: "checks every existing row while holding a lock that blocks writes",
    instead:
      "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration (no write lock)",
    severity: always,
    squawk: "constraint-missing-not-valid",
  },
  {
    id: "add-foreign-key-without-not-valid",
    why: "checks every existing row while holding write-blocking locks on both tables",
    instead:
      "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (for a new column: add it first, then the constraint NOT VALID)",
    severity: always,
    squawk: "adding-foreign-key-constraint",
  },
  {
    id: "drop-constraint",
    why: "the running version relies on the constraint (a foreign key, check or unique constraint) to keep the data it reads valid; the new version could write rows it does not expect",
    instead: "drop constraints in a contract migration, after the old version has stopped",
    severity: expandOnly,
  },
  {
    id: "require-lock-timeout",
    why: "without lock_timeout, a statement that waits for an ACCESS EXCLUSIVE lock makes every later query on the table queue behind it: the service stalls",
    instead:
      "leave database.lockTimeout set (cutover sets lock_timeout for every migration and retries on timeout); do not SET lock_timeout = 0 or RESET it",
    severity: always,
    squawk: "require-lock-timeout",
  },
  {
    id: "truncate-cascade",
    why: "also empties every table that references this one, which the running version still uses",
    instead: "delete the rows you mean to delete, table by table, in batches",
    severity: always,
    squawk: "ban-truncate-cascade",
  },
  {
    id: "enum-add-value-in-transaction",
    why: "PostgreSQL before 12 cannot add an enum value inside a transaction block: the migration fails",
    instead:
      "put ALTER TYPE ... ADD VALUE in a migration of its own without BEGIN/COMMIT (cutover runs it alone before PostgreSQL 12), or upgrade to PostgreSQL 12+",
    severity: always,
  },
  {
    id: "cluster",
    why: "CLUSTER rewrites the table under ACCESS EXCLUSIVE, blocking all reads and writes",
    instead: "pg_repack (or pg_squeeze) outside migrations",
    severity: always,
    squawk: "prefer-repack",
  },
  {
    id: "vacuum-full",
    why: "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE, blocking all reads and writes",
    instead: "plain VACUUM, or pg_repack outside migrations",
    severity: always,
    squawk: "prefer-repack",
  },
  {
    id: "transaction-control",
    why: "cutover runs each migration in a transaction of its own; a COMMIT in the file ends it early, so a failure half way leaves a half-migrated schema",
    instead: "remove BEGIN/COMMIT/ROLLBACK from the migration",
    severity: always,
    squawk: "transaction-nesting",
  },
  {
    id: "syntax-error",
    why: "PostgreSQL's parser rejects this SQL",
    instead: "fix the SQL",
    severity: always,
  },
  {
    id: "invalid-suppression",
    why: "a cutover:allow comment needs a known rule id and a reason",
    instead: "write -- cutover:allow <rule-id> <why it is safe here>",
    severity: always,
  },
  {
    id: "unused-suppression",
    why: "this cutover:allow comment suppresses nothing",
    instead: "remove it, or move it right above the statement it is meant for",
    severity: { expand: "warning", contract: "warning" },
  },
];

const BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.id, rule]));

export function ruleById(id: RuleId): Rule {
  const rule = BY_ID.get(id);
  if (!rule) throw new Error(`no lint rule "${id}"`);
  return rule;
}

export function isRuleId(id: string): id is RuleId {
  return BY_ID.has(id);
}

export function allRules(): readonly Rule[] {
  return RULES;
}
