import { always, expandOnly, type Rule } from "./rule.js";

/**
 * Rules for statements that block traffic or fail on a live table (long locks, table rewrites, validation
 * under an exclusive lock), and the linter's own rules (syntax, suppressions).
 */
export const LOCKING_RULES: readonly Rule[] = [
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
