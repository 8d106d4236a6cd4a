import { always, contractWarns, expandOnly, type Rule } from "./rule.js";

/** Rules for what the running version still uses: objects dropped, replaced or renamed under it. */
export const RUNNING_VERSION_RULES: readonly Rule[] = [
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
];
