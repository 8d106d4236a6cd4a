import type { RuleId } from "../../../src/db/lint/rule-catalogue.js";
import type { Phase } from "../../../src/db/migration.js";

/** A migration that breaks the running version or blocks traffic, and the rule that must flag it. */
export interface UnsafeCase {
  readonly rule: RuleId;
  readonly phase: Phase;
  readonly sql: string;
  /** The runner's lock_timeout in ms (default 1000, as cutover sets it); the server version, if it matters. */
  readonly lockTimeoutMs?: number;
  readonly serverVersionNum?: number;
}

export const UNSAFE: readonly UnsafeCase[] = [
  { rule: "rename-column", phase: "expand", sql: "ALTER TABLE users RENAME COLUMN name TO full_name;" },
  { rule: "rename-column", phase: "contract", sql: "ALTER TABLE users RENAME COLUMN name TO full_name;" },
  {
    rule: "rename-column",
    phase: "expand",
    sql: "ALTER TABLE billing.invoices RENAME COLUMN total TO amount;",
  },
  { rule: "rename-table", phase: "expand", sql: "ALTER TABLE users RENAME TO accounts;" },
  { rule: "rename-table", phase: "contract", sql: "ALTER TABLE IF EXISTS public.users RENAME TO accounts;" },
  { rule: "drop-column", phase: "expand", sql: "ALTER TABLE users DROP COLUMN email;" },
  { rule: "drop-column", phase: "expand", sql: "ALTER TABLE users DROP COLUMN IF EXISTS legacy CASCADE;" },
  { rule: "drop-column", phase: "expand", sql: "ALTER TABLE users ADD COLUMN bio text, DROP COLUMN about;" },
  { rule: "drop-table", phase: "expand", sql: "DROP TABLE sessions;" },
  { rule: "drop-table", phase: "expand", sql: "DROP TABLE IF EXISTS audit_log, audit_log_old CASCADE;" },
  { rule: "drop-schema", phase: "expand", sql: "DROP SCHEMA reporting CASCADE;" },
  { rule: "drop-database", phase: "contract", sql: "DROP DATABASE shop_old;" },
  {
    rule: "add-column-not-null-without-default",
    phase: "expand",
    sql: "ALTER TABLE users ADD COLUMN age integer NOT NULL;",
  },
  {
    rule: "add-column-not-null-without-default",
    phase: "contract",
    sql: "ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL CHECK (currency <> '');",
  },
  {
    rule: "volatile-default",
    phase: "expand",
    sql: "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
  },
  {
    rule: "volatile-default",
    phase: "expand",
    sql: "ALTER TABLE events ADD COLUMN seen_at timestamptz NOT NULL DEFAULT clock_timestamp();",
  },
  { rule: "volatile-default", phase: "expand", sql: "ALTER TABLE events ADD COLUMN seq bigserial;" },
  {
    rule: "volatile-default",
    phase: "expand",
    sql: "ALTER TABLE events ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;",
  },
  {
    rule: "volatile-default",
    phase: "contract",
    sql: "ALTER TABLE samples ADD COLUMN r double precision DEFAULT random();",
  },
  {
    rule: "add-stored-generated-column",
    phase: "expand",
    sql: "ALTER TABLE order_lines ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) STORED;",
  },
  { rule: "set-not-null", phase: "expand", sql: "ALTER TABLE users ALTER COLUMN email SET NOT NULL;" },
  { rule: "set-not-null", phase: "contract", sql: "ALTER TABLE users ALTER COLUMN email SET NOT NULL;" },
  {
    rule: "set-not-null",
    phase: "expand",
    sql: "ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email;",
  },
  { rule: "drop-not-null", phase: "expand", sql: "ALTER TABLE users ALTER COLUMN nickname DROP NOT NULL;" },
  {
    rule: "alter-column-type",
    phase: "expand",
    sql: "ALTER TABLE products ALTER COLUMN price TYPE numeric(12,2);",
  },
  {
    rule: "alter-column-type",
    phase: "contract",
    sql: "ALTER TABLE events ALTER COLUMN id SET DATA TYPE bigint;",
  },
  {
    rule: "alter-column-type",
    phase: "expand",
    sql: "ALTER TABLE products ALTER COLUMN sku TYPE text USING sku::text;",
  },
  {
    rule: "alter-column-type",
    phase: "expand",
    sql: "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);",
  },
  {
    rule: "create-index-non-concurrently",
    phase: "expand",
    sql: "CREATE INDEX users_email ON users (email);",
  },
  {
    rule: "create-index-non-concurrently",
    phase: "contract",
    sql: "CREATE UNIQUE INDEX IF NOT EXISTS users_lower_email ON users (lower(email));",
  },
  { rule: "drop-index-non-concurrently", phase: "expand", sql: "DROP INDEX users_email;" },
  { rule: "drop-index-non-concurrently", phase: "contract", sql: "DROP INDEX IF EXISTS users_a, users_b;" },
  { rule: "reindex-non-concurrently", phase: "expand", sql: "REINDEX INDEX users_email;" },
  { rule: "reindex-non-concurrently", phase: "contract", sql: "REINDEX TABLE users;" },
  {
    rule: "concurrently-in-transaction",
    phase: "expand",
    sql: "BEGIN;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nCOMMIT;",
  },
  {
    rule: "add-unique-constraint",
    phase: "expand",
    sql: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
  },
  { rule: "add-unique-constraint", phase: "expand", sql: "ALTER TABLE users ADD COLUMN handle text UNIQUE;" },
  { rule: "add-primary-key-constraint", phase: "expand", sql: "ALTER TABLE events ADD PRIMARY KEY (id);" },
  {
    rule: "add-check-without-not-valid",
    phase: "expand",
    sql: "ALTER TABLE products ADD CONSTRAINT price_positive CHECK (price > 0);",
  },
  {
    rule: "add-foreign-key-without-not-valid",
    phase: "expand",
    sql: "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
  },
  {
    rule: "add-foreign-key-without-not-valid",
    phase: "expand",
    sql: "ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);",
  },
  { rule: "drop-constraint", phase: "expand", sql: "ALTER TABLE orders DROP CONSTRAINT orders_user_fk;" },
  {
    rule: "require-lock-timeout",
    phase: "expand",
    sql: "SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN bio text;",
  },
  {
    rule: "require-lock-timeout",
    phase: "expand",
    sql: "RESET lock_timeout;\nALTER TABLE users ADD COLUMN bio text;",
  },
  {
    rule: "require-lock-timeout",
    phase: "expand",
    sql: "ALTER TABLE users ADD COLUMN bio text;",
    lockTimeoutMs: 0,
  },
  {
    rule: "require-lock-timeout",
    phase: "contract",
    sql: "LOCK TABLE users IN ACCESS EXCLUSIVE MODE;",
    lockTimeoutMs: 0,
  },
  { rule: "truncate-cascade", phase: "contract", sql: "TRUNCATE users CASCADE;" },
  {
    rule: "enum-add-value-in-transaction",
    phase: "expand",
    sql: "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;",
    serverVersionNum: 110022,
  },
  {
    rule: "enum-add-value-in-transaction",
    phase: "expand",
    sql: "ALTER TYPE mood ADD VALUE 'meh';\nCREATE TABLE moods (m mood);",
    serverVersionNum: 110022,
  },
  { rule: "cluster", phase: "contract", sql: "CLUSTER users USING users_pkey;" },
  { rule: "vacuum-full", phase: "contract", sql: "VACUUM FULL users;" },
  { rule: "vacuum-full", phase: "expand", sql: "VACUUM (FULL, ANALYZE) users;" },
  { rule: "transaction-control", phase: "expand", sql: "ALTER TABLE users ADD COLUMN bio text;\nCOMMIT;" },
  { rule: "syntax-error", phase: "expand", sql: "ALTER TABLE users ADD COLUMN;" },
];
