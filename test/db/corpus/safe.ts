import type { Phase } from "../../../src/db/migration.js";

/** A migration safe while two versions run: the linter must report nothing at all. */
export interface SafeCase {
  readonly name: string;
  readonly phase: Phase;
  readonly sql: string;
  readonly lockTimeoutMs?: number;
}

export const SAFE: readonly SafeCase[] = [
  {
    name: "new table with its keys and checks",
    phase: "expand",
    sql: `CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  code text NOT NULL UNIQUE,
  total numeric NOT NULL CHECK (total >= 0)
);`,
  },
  {
    name: "new table, then its index and constraints",
    phase: "expand",
    sql: `CREATE TABLE tags (id bigint, name text);
CREATE INDEX tags_name ON tags (name);
ALTER TABLE tags ADD PRIMARY KEY (id);
ALTER TABLE tags ADD CONSTRAINT tags_name_key UNIQUE (name);
ALTER TABLE tags ALTER COLUMN name SET NOT NULL;`,
  },
  { name: "nullable column", phase: "expand", sql: "ALTER TABLE users ADD COLUMN bio text;" },
  {
    name: "NOT NULL with a constant default",
    phase: "expand",
    sql: "ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';",
  },
  {
    name: "default now() (stable: stored once)",
    phase: "expand",
    sql: "ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();",
  },
  {
    name: "default CURRENT_TIMESTAMP",
    phase: "expand",
    sql: "ALTER TABLE users ADD COLUMN updated_at timestamptz DEFAULT CURRENT_TIMESTAMP;",
  },
  {
    name: "index built concurrently",
    phase: "expand",
    sql: "CREATE INDEX CONCURRENTLY users_email ON users (email);",
  },
  {
    name: "index dropped concurrently",
    phase: "contract",
    sql: "DROP INDEX CONCURRENTLY IF EXISTS users_old;",
  },
  { name: "reindex concurrently", phase: "expand", sql: "REINDEX INDEX CONCURRENTLY users_email;" },
  {
    name: "check constraint NOT VALID",
    phase: "expand",
    sql: "ALTER TABLE products ADD CONSTRAINT price_positive CHECK (price > 0) NOT VALID;",
  },
  {
    name: "validate constraint",
    phase: "expand",
    sql: "ALTER TABLE products VALIDATE CONSTRAINT price_positive;",
  },
  {
    name: "foreign key NOT VALID",
    phase: "expand",
    sql: "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
  },
  {
    name: "unique constraint over an index built concurrently",
    phase: "expand",
    sql: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_unique;",
  },
  {
    name: "primary key over an index built concurrently",
    phase: "expand",
    sql: "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_unique;",
  },
  {
    name: "NOT NULL after a validated check",
    phase: "contract",
    sql: `ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;`,
  },
  { name: "drop a column in contract", phase: "contract", sql: "ALTER TABLE users DROP COLUMN legacy;" },
  { name: "drop a table in contract", phase: "contract", sql: "DROP TABLE IF EXISTS old_sessions;" },
  {
    name: "drop NOT NULL in contract",
    phase: "contract",
    sql: "ALTER TABLE users ALTER COLUMN nickname DROP NOT NULL;",
  },
  {
    name: "drop a foreign key in contract",
    phase: "contract",
    sql: "ALTER TABLE orders DROP CONSTRAINT orders_user_fk;",
  },
  { name: "varchar to text", phase: "expand", sql: "ALTER TABLE users ALTER COLUMN bio TYPE text;" },
  {
    name: "set a default",
    phase: "expand",
    sql: "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'anonymous';",
  },
  {
    name: "a view",
    phase: "expand",
    sql: "CREATE VIEW active_users AS SELECT id, name FROM users WHERE deleted_at IS NULL;",
  },
  {
    name: "enum and a new value (PostgreSQL 12+)",
    phase: "expand",
    sql: "CREATE TYPE mood AS ENUM ('sad', 'ok');\nALTER TYPE mood ADD VALUE 'happy' AFTER 'ok';",
  },
  {
    name: "seed data",
    phase: "expand",
    sql: "INSERT INTO settings (key, value) VALUES ('theme', 'dark') ON CONFLICT (key) DO NOTHING;",
  },
  {
    name: "batched backfill",
    phase: "expand",
    sql: "UPDATE users SET status = 'active' WHERE status IS NULL AND id BETWEEN 1 AND 10000;",
  },
  {
    name: "trigger function and trigger (lock_timeout set by cutover)",
    phase: "expand",
    sql: `CREATE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_touch();`,
  },
  { name: "rename an index", phase: "expand", sql: "ALTER INDEX users_email RENAME TO users_email_idx;" },
  {
    name: "rename a constraint",
    phase: "expand",
    sql: "ALTER TABLE users RENAME CONSTRAINT c1 TO users_c1;",
  },
  {
    name: "lock_timeout set in the file when the runner sets none",
    phase: "expand",
    sql: "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;",
    lockTimeoutMs: 0,
  },
  {
    name: "rename within a table created in the same migration",
    phase: "expand",
    sql: "CREATE TABLE drafts (id bigint, title text);\nALTER TABLE drafts RENAME COLUMN title TO headline;",
  },
  {
    name: "a new version of a view and of a function beside the old ones",
    phase: "expand",
    sql: `CREATE VIEW active_users_v2 AS SELECT id, name, email FROM users WHERE deleted_at IS NULL;
CREATE FUNCTION order_total_v2(o bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT sum(price) FROM order_lines WHERE order_id = o $$;`,
  },
  {
    name: "objects made and then changed in the same migration",
    phase: "expand",
    sql: `CREATE VIEW report AS SELECT 1 AS n;
CREATE OR REPLACE VIEW report AS SELECT 2 AS n;
CREATE TYPE order_state AS ENUM ('new', 'shipped');
ALTER TYPE order_state RENAME VALUE 'shipped' TO 'sent';
CREATE SEQUENCE ticket_numbers;
ALTER SEQUENCE ticket_numbers RESTART WITH 1000;
CREATE FUNCTION ticket_total() RETURNS integer LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION ticket_total();`,
  },
  {
    name: "old views, functions, types, sequences, triggers and policies dropped in contract",
    phase: "contract",
    sql: `DROP VIEW IF EXISTS active_users CASCADE;
DROP MATERIALIZED VIEW daily_sales;
DROP FUNCTION order_total(bigint);
DROP TYPE order_status;
DROP SEQUENCE invoice_numbers;
DROP TRIGGER users_touch ON users;
DROP POLICY tenant_isolation ON orders;
DROP RULE protect_delete ON orders;
DROP SCHEMA reporting CASCADE;`,
  },
  {
    name: "a function and a view replaced in contract",
    phase: "contract",
    sql: `CREATE OR REPLACE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql AS $$ SELECT 0::numeric $$;
CREATE OR REPLACE VIEW active_users AS SELECT id, name FROM users;`,
  },
  {
    name: "comment and grant",
    phase: "expand",
    sql: "COMMENT ON COLUMN users.bio IS 'free text';\nGRANT SELECT ON users TO reporting;",
  },
];
