import type { Migration, Phase } from "../migration.js";
import {
  type Allow,
  loadPgParser,
  type ParsedSql,
  parseSql,
  SqlSyntaxError,
  type Statement,
} from "../pg-parser.js";
import { checkStatement } from "./check-statement.js";
import { LintContext, type LintOptions, LintState } from "./lint-state.js";
import type { RawFinding } from "./raw-finding.js";
import type { RuleId, Severity } from "./rule.js";
import { isRuleId, ruleById } from "./rule-catalogue.js";

/** One problem in one statement of one migration. */
export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly file: string;
  /** "0002_add_email", or null when linting loose SQL. */
  readonly migration: string | null;
  readonly phase: Phase;
  readonly line: number;
  readonly column: number;
  /** The statement, shortened. */
  readonly statement: string;
  /** What this statement does, e.g. "drops users.email". */
  readonly detail: string;
  readonly why: string;
  readonly instead: string;
  /** The reason given in a cutover:allow comment, when one suppresses this finding. */
  readonly suppressed: string | null;
}

export interface LintReport {
  readonly file: string;
  readonly migration: string | null;
  readonly phase: Phase;
  readonly statements: number;
  readonly findings: readonly Finding[];
}

const SHOWN_STATEMENT_LENGTH = 160;

/** Lints migrations in version order: what one teaches (a validated NOT NULL check) counts for the next. */
export async function lintMigrations(
  migrations: readonly Migration[],
  options: LintOptions,
): Promise<LintReport[]> {
  await loadPgParser();
  const context = new LintContext();
  return migrations.map((migration) =>
    lintSqlWith(migration.up.sql, {
      file: migration.file,
      migration: migration.id,
      phase: migration.phase,
      lineOffset: migration.up.line - 1,
      options,
      context,
    }),
  );
}

/** Lints loose SQL as if it were the up part of a migration of `phase`. */
export async function lintSql(
  sql: string,
  phase: Phase,
  options: LintOptions,
  file = "<sql>",
): Promise<LintReport> {
  await loadPgParser();
  return lintSqlWith(sql, {
    file,
    migration: null,
    phase,
    lineOffset: 0,
    options,
    context: new LintContext(),
  });
}

/** Error-level findings not suppressed: what refuses a deploy or fails `migrate lint`. */
export function blockingFindings(reports: readonly LintReport[]): Finding[] {
  return reports.flatMap((report) =>
    report.findings.filter((f) => f.severity === "error" && f.suppressed === null),
  );
}

interface Where {
  readonly file: string;
  readonly migration: string | null;
  readonly phase: Phase;
  readonly lineOffset: number;
  readonly options: LintOptions;
  readonly context: LintContext;
}

function lintSqlWith(sql: string, where: Where): LintReport {
  let parsed: ParsedSql;
  try {
    parsed = parseSql(sql, where.lineOffset);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    const finding = makeFinding(
      where,
      { rule: "syntax-error", detail: error.message },
      error.line,
      error.column,
      "",
    );
    return {
      file: where.file,
      migration: where.migration,
      phase: where.phase,
      statements: 0,
      findings: [finding],
    };
  }
  const state = new LintState(where.phase, where.options, where.context, parsed.statements.length);
  const findings = parsed.statements.flatMap((statement) => lintStatement(statement, state, where));
  for (const allow of parsed.danglingAllows) findings.push(unusedAllow(allow, where));
  return {
    file: where.file,
    migration: where.migration,
    phase: where.phase,
    statements: parsed.statements.length,
    findings,
  };
}

function lintStatement(statement: Statement, state: LintState, where: Where): Finding[] {
  const raw = checkStatement(statement.node, state);
  const at = (finding: RawFinding, reason: string | null = null) =>
    makeFinding(where, finding, statement.line, statement.column, statement.sql, reason);
  const findings: Finding[] = [];
  const used = new Set<Allow>();
  for (const finding of raw) {
    if (severityOf(finding, where.phase) === null) continue;
    const allow = statement.allows.find((a) => a.rule === finding.rule && a.reason !== "");
    if (allow) used.add(allow);
    findings.push(at(finding, allow?.reason ?? null));
  }
  for (const allow of statement.allows) {
    if (!isRuleId(allow.rule) || allow.reason === "") {
      const problem = !isRuleId(allow.rule)
        ? `unknown rule "${allow.rule}"`
        : `no reason given for ${allow.rule}`;
      findings.push(
        makeFinding(where, { rule: "invalid-suppression", detail: problem }, allow.line, 1, statement.sql),
      );
    } else if (!used.has(allow)) {
      findings.push(unusedAllow(allow, where));
    }
  }
  return findings;
}

function unusedAllow(allow: Allow, where: Where): Finding {
  return makeFinding(
    where,
    { rule: "unused-suppression", detail: `cutover:allow ${allow.rule}` },
    allow.line,
    1,
    "",
  );
}

function severityOf(finding: RawFinding, phase: Phase): Severity | null {
  const base = ruleById(finding.rule).severity[phase];
  return base === null ? null : (finding.severity ?? base);
}

function makeFinding(
  where: Where,
  finding: RawFinding,
  line: number,
  column: number,
  sql: string,
  suppressed: string | null = null,
): Finding {
  const rule = ruleById(finding.rule);
  const oneLine = sql.replace(/\s+/g, " ");
  return {
    rule: rule.id,
    severity: severityOf(finding, where.phase) ?? "warning",
    file: where.file,
    migration: where.migration,
    phase: where.phase,
    line,
    column,
    statement:
      oneLine.length > SHOWN_STATEMENT_LENGTH ? `${oneLine.slice(0, SHOWN_STATEMENT_LENGTH - 1)}…` : oneLine,
    detail: finding.detail,
    why: rule.why,
    instead: rule.instead,
    suppressed,
  };
}
