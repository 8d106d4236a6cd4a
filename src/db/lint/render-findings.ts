import { relative } from "node:path";
import type { Finding, LintReport } from "./lint-migration.js";
import { ruleById } from "./rule-catalogue.js";

/** A finding as people read it: where, which rule, what, why, and what to write instead. */
export function renderFinding(finding: Finding, cwd = process.cwd()): string {
  const where = `${relative(cwd, finding.file) || finding.file}:${finding.line}:${finding.column}`;
  const head = `${where} ${finding.severity}[${finding.rule}] ${finding.detail}`;
  const lines = [head];
  if (finding.statement) lines.push(`    ${finding.statement}`);
  if (finding.suppressed !== null) {
    lines.push(`    allowed: ${finding.suppressed}`);
    return lines.join("\n");
  }
  const severity = ruleById(finding.rule).severity;
  const phaseMatters = severity.expand !== severity.contract;
  lines.push(`    why: ${finding.why}${phaseMatters ? ` (in a ${finding.phase} migration)` : ""}`);
  lines.push(`    instead: ${finding.instead}`);
  return lines.join("\n");
}

/** The text report of `cutover migrate lint`: findings, then one summary line. */
export function renderLintReports(reports: readonly LintReport[], cwd = process.cwd()): string {
  const findings = reports.flatMap((report) => report.findings);
  const shown = findings.map((finding) => renderFinding(finding, cwd));
  const count = (predicate: (f: Finding) => boolean) => findings.filter(predicate).length;
  const errors = count((f) => f.severity === "error" && f.suppressed === null);
  const warnings = count((f) => f.severity === "warning" && f.suppressed === null);
  const allowed = count((f) => f.suppressed !== null);
  const statements = reports.reduce((sum, report) => sum + report.statements, 0);
  const summary =
    `${reports.length} file(s), ${statements} statement(s): ${errors} error(s), ${warnings} warning(s)` +
    (allowed > 0 ? `, ${allowed} allowed by cutover:allow` : "");
  return [...shown, summary].join("\n\n");
}
