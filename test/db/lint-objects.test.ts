import { describe, expect, it } from "vitest";
import { lintSql } from "../../src/db/lint/lint-migration.js";
import { renderFinding } from "../../src/db/lint/render-findings.js";
import type { RuleId } from "../../src/db/lint/rule.js";
import { ruleById } from "../../src/db/lint/rule-catalogue.js";

/** Dropping or replacing an object the running version may use: views, functions, types, sequences, ... */
interface ObjectCase {
  readonly rule: RuleId;
  /** Changes an object that exists before the migration. */
  readonly sql: string;
  readonly detail: string;
  /** Words of the safe alternative the finding must offer. */
  readonly alternative: string;
  /** Makes the object earlier in the same migration: then `sql` harms nobody. */
  readonly made: string;
}

const VIEW = "CREATE VIEW orders_summary AS SELECT 1 AS one;";
const MATVIEW = "CREATE MATERIALIZED VIEW daily_totals AS SELECT 1 AS one;";
const FUNCTION = "CREATE FUNCTION total(n integer) RETURNS integer LANGUAGE sql AS 'SELECT n';";
const PROCEDURE = "CREATE PROCEDURE archive_orders() LANGUAGE sql AS 'SELECT 1';";
const AGGREGATE = "CREATE AGGREGATE my_sum(integer) (sfunc = int4pl, stype = integer);";
const ENUM = "CREATE TYPE mood AS ENUM ('sad', 'ok');";
const SEQUENCE = "CREATE SEQUENCE invoice_numbers;";
const TRIGGER =
  "CREATE TRIGGER orders_sync BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_sync();";
const POLICY = "CREATE POLICY orders_owner ON orders USING (owner = current_user);";
const RULE = "CREATE RULE orders_keep AS ON DELETE TO orders DO INSTEAD NOTHING;";

const CASES: readonly ObjectCase[] = [
  {
    rule: "drop-view",
    sql: "DROP VIEW orders_summary;",
    detail: "drops view orders_summary",
    alternative: "CREATE VIEW orders_v2",
    made: VIEW,
  },
  {
    rule: "drop-view",
    sql: "DROP MATERIALIZED VIEW IF EXISTS daily_totals;",
    detail: "drops materialized view daily_totals",
    alternative: "drop it in a contract migration",
    made: MATVIEW,
  },
  {
    rule: "replace-view",
    sql: "CREATE OR REPLACE VIEW orders_summary AS SELECT 2 AS one;",
    detail: "replaces view orders_summary",
    alternative: "CREATE VIEW orders_v2",
    made: VIEW,
  },
  {
    rule: "rename-view",
    sql: "ALTER VIEW orders_summary RENAME TO order_totals;",
    detail: "renames view orders_summary to order_totals",
    alternative: "CREATE VIEW orders_v2",
    made: VIEW,
  },
  {
    rule: "rename-view",
    sql: "ALTER VIEW orders_summary RENAME COLUMN one TO uno;",
    detail: "renames column one of view orders_summary to uno",
    alternative: "CREATE VIEW orders_v2",
    made: VIEW,
  },
  {
    rule: "rename-view",
    sql: "ALTER MATERIALIZED VIEW daily_totals RENAME TO totals_by_day;",
    detail: "renames materialized view daily_totals to totals_by_day",
    alternative: "drop the old one in a contract migration",
    made: MATVIEW,
  },
  {
    rule: "drop-function",
    sql: "DROP FUNCTION total(integer);",
    detail: "drops function total(int4)",
    alternative: "CREATE FUNCTION total_v2",
    made: FUNCTION,
  },
  {
    rule: "drop-function",
    sql: "DROP PROCEDURE archive_orders;",
    detail: "drops procedure archive_orders",
    alternative: "CREATE FUNCTION total_v2",
    made: PROCEDURE,
  },
  {
    rule: "drop-function",
    sql: "DROP AGGREGATE my_sum(integer);",
    detail: "drops aggregate my_sum(int4)",
    alternative: "drop it in a contract migration",
    made: AGGREGATE,
  },
  {
    rule: "replace-function",
    sql: "CREATE OR REPLACE FUNCTION total(n integer) RETURNS integer LANGUAGE sql AS 'SELECT n + 1';",
    detail: "replaces function total",
    alternative: "CREATE FUNCTION total_v2",
    made: FUNCTION,
  },
  {
    rule: "replace-function",
    sql: "CREATE OR REPLACE PROCEDURE archive_orders() LANGUAGE sql AS 'SELECT 2';",
    detail: "replaces procedure archive_orders",
    alternative: "without OR REPLACE",
    made: PROCEDURE,
  },
  {
    rule: "replace-function",
    sql: "CREATE OR REPLACE AGGREGATE my_sum(integer) (sfunc = int4pl, stype = integer, initcond = '0');",
    detail: "replaces aggregate my_sum",
    alternative: "CREATE FUNCTION total_v2",
    made: AGGREGATE,
  },
  {
    rule: "rename-function",
    sql: "ALTER FUNCTION total(integer) RENAME TO order_total;",
    detail: "renames function total(int4) to order_total",
    alternative: "CREATE FUNCTION total_v2",
    made: FUNCTION,
  },
  {
    rule: "rename-function",
    sql: "ALTER PROCEDURE archive_orders RENAME TO archive;",
    detail: "renames procedure archive_orders to archive",
    alternative: "CREATE FUNCTION total_v2",
    made: PROCEDURE,
  },
  {
    rule: "drop-type",
    sql: "DROP TYPE mood;",
    detail: "drops type mood",
    alternative: "CREATE TYPE mood_v2",
    made: ENUM,
  },
  {
    rule: "drop-type",
    sql: "DROP DOMAIN email_address;",
    detail: "drops domain email_address",
    alternative: "drop it in a contract migration",
    made: "CREATE DOMAIN email_address AS text;",
  },
  {
    rule: "rename-type",
    sql: "ALTER TYPE mood RENAME TO feeling;",
    detail: "renames type mood to feeling",
    alternative: "CREATE TYPE mood_v2",
    made: ENUM,
  },
  {
    rule: "rename-type",
    sql: "ALTER TYPE address RENAME ATTRIBUTE zip TO postcode;",
    detail: "renames attribute zip of type address to postcode",
    alternative: "CREATE TYPE mood_v2",
    made: "CREATE TYPE address AS (street text, zip text);",
  },
  {
    rule: "rename-type",
    sql: "ALTER DOMAIN email_address RENAME TO email;",
    detail: "renames domain email_address to email",
    alternative: "drop the old one in a contract migration",
    made: "CREATE DOMAIN email_address AS text;",
  },
  {
    rule: "rename-enum-value",
    sql: "ALTER TYPE mood RENAME VALUE 'ok' TO 'fine';",
    detail: "renames value 'ok' of type mood to 'fine'",
    alternative: "ADD VALUE the new label",
    made: ENUM,
  },
  {
    rule: "drop-sequence",
    sql: "DROP SEQUENCE invoice_numbers;",
    detail: "drops sequence invoice_numbers",
    alternative: "drop it in a contract migration",
    made: SEQUENCE,
  },
  {
    rule: "rename-sequence",
    sql: "ALTER SEQUENCE invoice_numbers RENAME TO invoice_nos;",
    detail: "renames sequence invoice_numbers to invoice_nos",
    alternative: "CREATE SEQUENCE orders_v2_id_seq",
    made: SEQUENCE,
  },
  {
    rule: "restart-sequence",
    sql: "ALTER SEQUENCE invoice_numbers RESTART WITH 1;",
    detail: "restarts sequence invoice_numbers at 1",
    alternative: "setval to a value above every id in use",
    made: SEQUENCE,
  },
  {
    rule: "drop-trigger",
    sql: "DROP TRIGGER orders_sync ON orders;",
    detail: "drops trigger orders_sync on orders",
    alternative: "CREATE TRIGGER orders_sync_v2",
    made: TRIGGER,
  },
  {
    rule: "replace-trigger",
    sql: "CREATE OR REPLACE TRIGGER orders_sync BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_sync();",
    detail: "replaces trigger orders_sync on orders",
    alternative: "CREATE TRIGGER orders_sync_v2",
    made: TRIGGER,
  },
  {
    rule: "drop-policy",
    sql: "DROP POLICY orders_owner ON orders;",
    detail: "drops policy orders_owner on orders",
    alternative: "CREATE POLICY orders_v2 ON orders",
    made: POLICY,
  },
  {
    rule: "alter-policy",
    sql: "ALTER POLICY orders_owner ON orders USING (true) WITH CHECK (owner = current_user);",
    detail: "changes policy orders_owner on orders: USING, WITH CHECK",
    alternative: "CREATE POLICY orders_v2 ON orders",
    made: POLICY,
  },
  {
    rule: "alter-policy",
    sql: "ALTER POLICY orders_owner ON orders TO reporting;",
    detail: "changes policy orders_owner on orders: TO (its roles)",
    alternative: "CREATE POLICY orders_v2 ON orders",
    made: POLICY,
  },
  {
    rule: "drop-rule",
    sql: "DROP RULE orders_keep ON orders;",
    detail: "drops rule orders_keep on orders",
    alternative: "CREATE VIEW orders_v2",
    made: RULE,
  },
  {
    rule: "replace-rule",
    sql: "CREATE OR REPLACE RULE orders_keep AS ON DELETE TO orders DO INSTEAD NOTHING;",
    detail: "replaces rule orders_keep on orders",
    alternative: "CREATE VIEW orders_v2",
    made: RULE,
  },
  {
    rule: "drop-schema",
    sql: "DROP SCHEMA reporting;",
    detail: "drops schema reporting",
    alternative: "drop it in a contract migration",
    made: "CREATE SCHEMA reporting;",
  },
  {
    rule: "rename-schema",
    sql: "ALTER SCHEMA reporting RENAME TO analytics;",
    detail: "renames schema reporting to analytics",
    alternative: "CREATE SCHEMA reporting_v2",
    made: "CREATE SCHEMA reporting;",
  },
];

const options = (lockTimeoutMs = 1_000) => ({ lockTimeoutMs });
const labelled = CASES.map((c) => ({ ...c, label: `${c.rule}: ${c.sql}` }));
const shown = (findings: readonly { rule: string; severity: string; detail: string }[]) =>
  findings.map((f) => `${f.severity} ${f.rule}: ${f.detail}`);

describe("lint: objects the running version may use", () => {
  it.each(labelled)("expand: an error with the safe alternative ($label)", async (c) => {
    const report = await lintSql(c.sql, "expand", options());
    expect(shown(report.findings)).toEqual([`error ${c.rule}: ${c.detail}`]);
    const finding = report.findings[0];
    if (!finding) throw new Error("no finding");
    expect(finding.instead).toContain(c.alternative);
    const text = renderFinding(finding);
    expect(text).toContain(`error[${c.rule}] ${c.detail}`);
    expect(text).toContain(`instead: ${ruleById(c.rule).instead}`);
    expect(text).toMatch(/why: .*running version/);
  });

  it.each(labelled)("contract: allowed, at most a warning ($label)", async (c) => {
    const report = await lintSql(c.sql, "contract", options());
    const expected = ruleById(c.rule).severity.contract;
    expect(shown(report.findings)).toEqual(expected === null ? [] : [`${expected} ${c.rule}: ${c.detail}`]);
    expect(expected).not.toBe("error");
  });

  it.each(labelled)("made earlier in the same migration: nothing to report ($label)", async (c) => {
    const report = await lintSql(`${c.made}\n${c.sql}`, "expand", options());
    expect(shown(report.findings)).toEqual([]);
  });

  it("names every object of one DROP the running version may use, with IF EXISTS and CASCADE", async () => {
    const report = await lintSql(
      `CREATE VIEW fresh AS SELECT 1 AS one;
DROP VIEW IF EXISTS fresh, orders_summary, reporting.daily CASCADE;
DROP FUNCTION IF EXISTS total(integer, text), tax;
DROP TRIGGER IF EXISTS orders_sync ON app.orders;
DROP TYPE mood, app.size CASCADE;`,
      "expand",
      options(),
    );
    expect(shown(report.findings)).toEqual([
      "error drop-view: drops view orders_summary, reporting.daily, with CASCADE (which also drops every object that depends on them)",
      "error drop-function: drops function total(int4, text), tax",
      "error drop-trigger: drops trigger orders_sync on app.orders",
      "error drop-type: drops type mood, app.size, with CASCADE (which also drops every object that depends on them)",
    ]);
  });

  it("lets a migration change triggers, policies and rules of a table it made, and tables it made", async () => {
    const sql = `CREATE TABLE drafts (id bigint, owner text);
CREATE TRIGGER drafts_touch BEFORE UPDATE ON drafts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE OR REPLACE TRIGGER drafts_touch BEFORE INSERT ON drafts FOR EACH ROW EXECUTE FUNCTION touch();
DROP TRIGGER drafts_touch ON drafts;
CREATE POLICY drafts_owner ON drafts USING (owner = current_user);
ALTER POLICY drafts_owner ON drafts USING (true);
DROP POLICY drafts_owner ON drafts;
CREATE OR REPLACE RULE drafts_keep AS ON DELETE TO drafts DO INSTEAD NOTHING;
DROP RULE drafts_keep ON drafts;
DROP TABLE drafts;`;
    expect(shown((await lintSql(sql, "expand", options())).findings)).toEqual([]);
  });

  it("follows a new object through a rename, and a serial column's sequence", async () => {
    const sql = `CREATE VIEW a AS SELECT 1 AS one;
ALTER VIEW a RENAME TO b;
CREATE OR REPLACE VIEW b AS SELECT 2 AS one;
DROP VIEW b;
CREATE TABLE invoices (id bigserial, n integer GENERATED ALWAYS AS IDENTITY);
ALTER SEQUENCE invoices_id_seq RESTART WITH 100;
DROP SEQUENCE invoices_n_seq;`;
    expect(shown((await lintSql(sql, "expand", options())).findings)).toEqual([]);
  });

  it("treats a name the migration freed as new, and CREATE OR REPLACE as not making anything new", async () => {
    const freed = await lintSql(
      "ALTER TABLE users RENAME TO accounts;\nCREATE OR REPLACE VIEW users AS SELECT * FROM accounts;",
      "expand",
      options(),
    );
    expect(shown(freed.findings)).toEqual(["warning rename-table: renames users to accounts"]);
    const replaced = await lintSql(
      "CREATE OR REPLACE VIEW orders_summary AS SELECT 2 AS one;\nDROP VIEW orders_summary;",
      "expand",
      options(),
    );
    expect(shown(replaced.findings)).toEqual([
      "error replace-view: replaces view orders_summary",
      "error drop-view: drops view orders_summary",
    ]);
  });

  it("says a rename in a contract migration breaks the version still running", async () => {
    const report = await lintSql(
      "ALTER FUNCTION total(integer) RENAME TO order_total;",
      "contract",
      options(),
    );
    const finding = report.findings[0];
    if (!finding) throw new Error("no finding");
    expect(renderFinding(finding)).toContain(
      "why: the running version calls the function by its old name: its calls fail (in a contract migration)",
    );
  });

  it("reports the table lock of DROP TRIGGER, POLICY and RULE when there is no lock_timeout", async () => {
    const report = await lintSql(
      "DROP TRIGGER orders_sync ON app.orders;\nDROP POLICY p ON users;\nCREATE OR REPLACE RULE r AS ON DELETE TO items DO INSTEAD NOTHING;",
      "contract",
      options(0),
    );
    expect(report.findings.map((f) => `${f.rule}: ${f.detail}`)).toEqual([
      "require-lock-timeout: waits for a lock on app.orders with no lock_timeout",
      "require-lock-timeout: waits for a lock on users with no lock_timeout",
      "require-lock-timeout: waits for a lock on items with no lock_timeout",
    ]);
  });

  it("leaves harmless changes alone: ALTER SEQUENCE without RESTART, policy and trigger renames", async () => {
    const sql = `ALTER SEQUENCE invoice_numbers OWNED BY invoices.n;
ALTER POLICY orders_owner ON orders RENAME TO orders_owned;
ALTER TRIGGER orders_sync ON orders RENAME TO orders_copy;
CREATE VIEW orders_v2 AS SELECT 1 AS one;
CREATE FUNCTION total_v2(n integer) RETURNS integer LANGUAGE sql AS 'SELECT n';`;
    expect(shown((await lintSql(sql, "expand", options())).findings)).toEqual([]);
  });
});
