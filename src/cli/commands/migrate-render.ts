import pc from "picocolors";
import type { LintReport } from "../../db/lint/lint-migration.js";
import { renderFinding } from "../../db/lint/render-findings.js";
import type { DryRunReport } from "../../db/runner/dry-run.js";
import type { MigrationPlan, MigrationStatus, RunResult } from "../../db/runner/migration-runner.js";
import type { MigrationState } from "../../db/runner/migration-states.js";

const STATE_COLOUR: Readonly<Record<MigrationState, (text: string) => string>> = {
  applied: pc.green,
  pending: pc.cyan,
  held: pc.yellow,
  changed: pc.red,
  missing: pc.red,
  "out-of-order": pc.red,
};

export function renderMigrationStatus(status: MigrationStatus, where: string): string {
  const lines = [
    `${pc.bold("schema")} ${status.schemaVersion ?? "(nothing applied)"}  on ${where} (PostgreSQL ${status.serverVersion})`,
  ];
  for (const entry of status.entries) {
    const state = STATE_COLOUR[entry.state](entry.state.padEnd(12));
    const applied = entry.applied
      ? `${entry.applied.appliedAt} by ${entry.applied.appliedBy} in ${entry.applied.durationMs}ms${entry.applied.transactional ? "" : " (non-transactional)"}`
      : "";
    const checksum = (entry.migration?.checksum ?? entry.applied?.checksum ?? "").slice(0, 12);
    lines.push(
      `  ${entry.id.padEnd(32)} ${entry.phase.padEnd(8)} ${state} ${checksum}  ${applied}`.trimEnd(),
    );
  }
  if (status.entries.length === 0) lines.push("  no migrations");
  return lines.join("\n");
}

export function renderPlan(plan: MigrationPlan): string {
  const verdict = (id: string) => {
    const findings =
      plan.lint.find((r) => r.migration === id)?.findings.filter((f) => f.suppressed === null) ?? [];
    if (findings.length === 0) return pc.green("safe");
    const errors = findings.filter((f) => f.severity === "error").length;
    const words = findings.map((f) => `${f.severity}[${f.rule}]`).join(", ");
    return errors > 0 ? pc.red(`refused: ${words}`) : pc.yellow(words);
  };
  const lines = [`${pc.bold("schema")} ${plan.schemaVersion ?? "(nothing applied)"}`];
  if (plan.problem) lines.push(pc.red(`a run would stop: ${plan.problem}`));
  lines.push("before the new colour starts (expand):");
  for (const m of plan.expand) lines.push(`  ${m.id.padEnd(32)} ${verdict(m.id)}`);
  if (plan.expand.length === 0) lines.push("  nothing");
  lines.push("after the old colour has stopped (contract):");
  for (const m of plan.contract) lines.push(`  ${m.id.padEnd(32)} ${verdict(m.id)}`);
  if (plan.contract.length === 0) lines.push("  nothing");
  const findings = plan.lint.flatMap((r) => r.findings.filter((f) => f.suppressed === null));
  if (findings.length > 0) lines.push("", ...findings.map((f) => renderFinding(f)));
  return lines.join("\n");
}

export function renderRun(result: RunResult, verb: string): string {
  const lines = result.applied.map((r) => {
    const notes = [
      `${r.statements} statement(s)`,
      `${r.durationMs}ms`,
      r.retries > 0 ? `${r.retries} retry(ies) after lock_timeout` : "",
      r.transactional ? "" : "non-transactional",
      r.compatSchema ? `old names kept in ${r.compatSchema}` : "",
    ].filter(Boolean);
    return `  ${r.direction === "down" ? "rolled back" : verb} ${r.id} (${notes.join(", ")})`;
  });
  if (result.applied.length === 0) lines.push("  nothing to do");
  for (const schema of result.droppedSchemas) lines.push(`  dropped versioned schema ${schema}`);
  for (const warning of result.warnings) lines.push(renderFinding(warning));
  if (result.lockWaitedMs > 100) lines.unshift(`waited ${result.lockWaitedMs}ms for the migration lock`);
  lines.push(`schema ${result.schemaVersion ?? "(nothing applied)"}`);
  return lines.join("\n");
}

export function renderDryRun(report: DryRunReport & { readonly lint: readonly LintReport[] }): string {
  const lines = [pc.bold("dry run: applied in one transaction, then rolled back; nothing was changed")];
  for (const migration of report.migrations) {
    lines.push(`${migration.id} (${migration.phase})`);
    for (const s of migration.statements) {
      const sql = s.sql.replace(/\s+/g, " ");
      lines.push(`  line ${s.line}: ${sql.length > 100 ? `${sql.slice(0, 99)}…` : sql}`);
      if (s.skipped) lines.push(`    ${pc.yellow(s.skipped)}`);
      if (s.error) lines.push(`    ${pc.red(`failed: ${s.error}`)}`);
      if (s.durationMs !== null) lines.push(`    ${s.durationMs}ms, ${s.rows ?? 0} row(s)`);
      for (const lock of s.locks) lines.push(`    lock ${lock.mode} on ${lock.relation} (${lock.blocks})`);
    }
  }
  if (report.migrations.length === 0) lines.push("nothing pending");
  const findings = report.lint.flatMap((r) => r.findings.filter((f) => f.suppressed === null));
  for (const finding of findings) lines.push(renderFinding(finding));
  return lines.join("\n");
}
