import { CutoverError } from "../../errors.js";
import type { Finding } from "./lint-migration.js";
import { renderFinding } from "./render-findings.js";

/** Pending migrations with error-level findings: refused before anything changes. */
export class UnsafeMigrationError extends CutoverError {
  readonly findings: readonly Finding[];
  constructor(findings: readonly Finding[]) {
    const first = findings[0];
    const head = first
      ? `${first.migration ?? first.file} is not safe while two versions run (${first.rule}: ${first.detail}); instead: ${first.instead}`
      : "a migration is not safe while two versions run";
    const rest = findings.map((finding) => renderFinding(finding)).join("\n");
    const hint =
      "fix the migration, or add `-- cutover:allow <rule> <reason>` above a statement you know is safe";
    super("UNSAFE_MIGRATION", `${head}\n${rest}\n${hint}`);
    this.name = "UnsafeMigrationError";
    this.findings = findings;
  }
}
