import type { RuleId } from "../../../src/db/lint/rule.js";
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
  { rule: "rename-schema", phase: "expand", sql: "ALTER SCHEMA reporting RENAME TO analytics;" },
  { rule: "drop-database", phase: "contract", sql: "DROP DATABASE shop_old;" },
  { rule: "drop-view", phase: "expand", sql: "DROP VIEW IF EXISTS active_users CASCADE;" },
  { rule: "drop-view", phase: "expand", sql: "DROP MATERIALIZED VIEW daily_sales, weekly_sales;" },
  {
    rule: "replace-view",
    phase: "expand",
    sql: "CREATE OR REPLACE VIEW active_users AS SELECT id, name, email FROM users WHERE deleted_at IS NULL;",
  },
  { rule: "rename-view", phase: "expand", sql: "ALTER VIEW active_users RENAME TO live_users;" },
  { rule: "drop-function", phase: "expand", sql: "DROP FUNCTION order_total(bigint);" },
  { rule: "drop-function", phase: "expand", sql: "DROP PROCEDURE IF EXISTS archive_orders CASCADE;" },
  {
    rule: "replace-function",
    phase: "expand",
    sql: "CREATE OR REPLACE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT sum(price) FROM order_lines WHERE order_id = o $$;",
  },
  {
    rule: "replace-function",
    phase: "expand",
    sql: "CREATE OR REPLACE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN NEW.touched_at := now(); RETURN NEW; END $$;",
  },
  { rule: "rename-function", phase: "expand", sql: "ALTER FUNCTION order_total(bigint) RENAME TO total_of;" },
  { rule: "drop-type", phase: "expand", sql: "DROP TYPE IF EXISTS order_status;" },
  { rule: "drop-type", phase: "expand", sql: "DROP DOMAIN email_address CASCADE;" },
  { rule: "rename-type", phase: "expand", sql: "ALTER TYPE order_status RENAME TO status;" },
  {
    rule: "rename-enum-value",
    phase: "expand",
    sql: "ALTER TYPE order_status RENAME VALUE 'shipped' TO 'sent';",
  },
  { rule: "drop-sequence", phase: "expand", sql: "DROP SEQUENCE invoice_numbers;" },
  { rule: "rename-sequence", phase: "expand", sql: "ALTER SEQUENCE invoice_numbers RENAME TO invoice_seq;" },
  { rule: "restart-sequence", phase: "expand", sql: "ALTER SEQUENCE orders_id_seq RESTART;" },
  {
    rule: "restart-sequence",
    phase: "contract",
    sql: "ALTER SEQUENCE IF EXISTS orders_id_seq RESTART WITH 1;",
  },
  { rule: "drop-trigger", phase: "expand", sql: "DROP TRIGGER users_touch ON users;" },
  {
    rule: "replace-trigger",
    phase: "expand",
    sql: "CREATE OR REPLACE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_touch_v2();",
  },
  { rule: "drop-policy", phase: "expand", sql: "DROP POLICY IF EXISTS tenant_isolation ON orders;" },
  {
    rule: "alter-policy",
    phase: "expand",
    sql: "ALTER POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant')::bigint);",
  },
  { rule: "drop-rule", phase: "expand", sql: "DROP RULE protect_delete ON orders;" },
  {
    rule: "replace-rule",
    phase: "expand",
    sql: "CREATE OR REPLACE RULE protect_delete AS ON DELETE TO orders DO INSTEAD NOTHING;",
  },
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
