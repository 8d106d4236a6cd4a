import { describe, expect, it } from "vitest";
import { blockingFindings, lintMigrations, lintSql } from "../../src/db/lint/lint-migration.js";
import { renderLintReports } from "../../src/db/lint/render-findings.js";
import { RULE_IDS } from "../../src/db/lint/rule.js";
import { allRules } from "../../src/db/lint/rule-catalogue.js";
import { parseMigrationFile } from "../../src/db/parse-migration-file.js";
import { loadPgParser } from "../../src/db/pg-parser.js";
import { SAFE } from "./corpus/safe.js";
import { UNSAFE } from "./corpus/unsafe.js";

const options = (lockTimeoutMs = 1_000, serverVersionNum?: number) => ({
  lockTimeoutMs,
  ...(serverVersionNum === undefined ? {} : { serverVersionNum }),
});

describe("lint corpus", () => {
  it("has at least 40 unsafe and 20 safe migrations", () => {
    expect(UNSAFE.length).toBeGreaterThanOrEqual(40);
    expect(SAFE.length).toBeGreaterThanOrEqual(20);
  });

  it.each(
    UNSAFE.map((c, i) => ({ ...c, label: `${String(i + 1).padStart(2, "0")} ${c.rule} (${c.phase})` })),
  )("flags unsafe $label", async (unsafe) => {
    const report = await lintSql(
      unsafe.sql,
      unsafe.phase,
      options(unsafe.lockTimeoutMs, unsafe.serverVersionNum),
    );
    expect(report.findings.map((f) => f.rule)).toContain(unsafe.rule);
    const finding = report.findings.find((f) => f.rule === unsafe.rule);
    expect(finding?.why.length).toBeGreaterThan(10);
    expect(finding?.instead.length).toBeGreaterThan(10);
    expect(finding?.suppressed).toBeNull();
  });

  it.each(SAFE)("does not flag safe: $name ($phase)", async (safe) => {
    const report = await lintSql(safe.sql, safe.phase, options(safe.lockTimeoutMs));
    expect(report.findings.map((f) => `${f.rule}: ${f.detail}`)).toEqual([]);
  });

  it("covers every rule of the catalogue except the suppression ones", () => {
    const covered = new Set(UNSAFE.map((c) => c.rule));
    const uncovered = RULE_IDS.filter((id) => !covered.has(id) && !id.endsWith("-suppression"));
    expect(uncovered).toEqual([]);
    expect(allRules().map((r) => r.id)).toEqual([...RULE_IDS]);
  });
});

describe("lint phases, suppressions and positions", () => {
  it("is phase-aware: a drop is an error in expand and nothing in contract", async () => {
    const sql = "ALTER TABLE users DROP COLUMN email;";
    expect((await lintSql(sql, "expand", options())).findings.map((f) => `${f.severity} ${f.rule}`)).toEqual([
      "error drop-column",
    ]);
    expect((await lintSql(sql, "contract", options())).findings).toEqual([]);
    const rename = "ALTER TABLE users RENAME COLUMN name TO full_name;";
    expect((await lintSql(rename, "expand", options())).findings[0]?.severity).toBe("warning");
    expect((await lintSql(rename, "contract", options())).findings[0]?.severity).toBe("error");
  });

  it("honours -- cutover:allow <rule> <reason> for the statement it belongs to, and only that one", async () => {
    const sql = `-- cutover:allow drop-column the old version never read it
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE users DROP COLUMN other;
CREATE INDEX users_email ON users (email); -- cutover:allow create-index-non-concurrently users has 12 rows
-- cutover:allow drop-table
DROP TABLE t;
-- cutover:allow no-such-rule because
SELECT 1;`;
    const report = await lintSql(sql, "expand", options());
    const shown = report.findings.map((f) => `${f.line} ${f.rule} ${f.suppressed ?? "-"}`);
    expect(shown).toEqual([
      "2 drop-column the old version never read it",
      "3 drop-column -",
      "4 create-index-non-concurrently users has 12 rows",
      "6 drop-table -",
      "5 invalid-suppression -",
      "7 invalid-suppression -",
    ]);
    expect(blockingFindings([report]).map((f) => f.line)).toEqual([3, 6, 5, 7]);
  });

  it("reports the line in the file, the statement, why, and the safe alternative", async () => {
    const migration = parseMigrationFile(
      "/srv/migrations/0007_email.sql",
      "-- cutover:phase expand\n-- adds an index\n\nCREATE INDEX users_email\n  ON users (email);\n-- cutover:down\nDROP INDEX users_email;\n",
    );
    await loadPgParser();
    const [report] = await lintMigrations([migration], options());
    const finding = report?.findings[0];
    expect(finding).toMatchObject({
      rule: "create-index-non-concurrently",
      severity: "error",
      migration: "0007_email",
      line: 4,
      statement: "CREATE INDEX users_email ON users (email)",
    });
    const text = renderLintReports(report ? [report] : [], "/srv");
    expect(text).toContain("migrations/0007_email.sql:4:1 error[create-index-non-concurrently]");
    expect(text).toContain("instead: CREATE INDEX CONCURRENTLY");
    expect(text).toContain("1 file(s), 1 statement(s): 1 error(s), 0 warning(s)");
  });

  it("reports SQL the parser rejects as syntax-error at its line", async () => {
    const report = await lintSql("SELECT 1;\nALTER TABLE users ADD COLUMN;\n", "expand", options());
    expect(report.findings.map((f) => `${f.rule} ${f.line}`)).toEqual(["syntax-error 2"]);
  });

  it("learns across files: a CHECK validated in an earlier migration makes SET NOT NULL safe", async () => {
    const file = (name: string, phase: string, sql: string) =>
      parseMigrationFile(`/m/${name}`, `-- cutover:phase ${phase}\n${sql}\n`);
    const reports = await lintMigrations(
      [
        file(
          "0001_check.sql",
          "expand",
          "ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;",
        ),
        file("0002_validate.sql", "expand", "ALTER TABLE users VALIDATE CONSTRAINT email_nn;"),
        file("0003_not_null.sql", "contract", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
        file("0004_other.sql", "contract", "ALTER TABLE users ALTER COLUMN name SET NOT NULL;"),
      ],
      options(),
    );
    expect(reports.map((r) => r.findings.map((f) => f.rule))).toEqual([[], [], [], ["set-not-null"]]);
  });
});
