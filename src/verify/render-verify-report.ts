import { describeCounts } from "./pass-criteria.js";
import type { DurationStats } from "./switch-timing.js";
import type { VerifyReport } from "./verify-report.js";

const num = (n: number) => n.toLocaleString("en-US");
const ms = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(1)} ms`);
const stats = (s: DurationStats) => (s.count === 0 ? "n/a" : `median ${ms(s.medianMs)}, max ${ms(s.maxMs)}`);
const mark = (passed: boolean) => (passed ? "PASS" : "FAIL");

/** The human summary of a drill. */
export function renderVerifyReport(r: VerifyReport): string {
  const lines = [
    `cutover verify: ${r.passed ? "PASSED" : "FAILED"} in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  lines.push(`  target      ${r.target}, switched by ${r.switchedBy}`);
  const how =
    r.load.ratePerSecond === null
      ? `${r.load.connections} connections`
      : `${r.load.ratePerSecond} requests/s`;
  const missed =
    r.load.missedTicks > 0 ? `; ${num(r.load.missedTicks)} ticks missed (too many in flight)` : "";
  const connections = r.load.connectionMode === "both" ? "keep-alive and fresh" : r.load.connectionMode;
  lines.push(`  load        GET ${r.load.path}, ${how}, ${connections} connections${missed}`);
  if (r.switches.planned > 0) {
    const q = r.requests;
    const by = Object.entries(q.byColour)
      .map(([c, n]) => `${c} ${num(n)}`)
      .join(", ");
    lines.push(
      `  requests    ${num(q.sent)} sent, ${num(q.failed)} failed${q.failed ? ` (${describeCounts(q.failuresByKind)})` : ""}${by ? `; answered by ${by}` : ""}`,
      `  latency     mean ${ms(q.meanMs)}, p50 ${ms(q.p50Ms)}, p99 ${ms(q.p99Ms)}, max ${ms(q.maxMs)}`,
      `  switches    ${r.switches.performed} of ${r.switches.planned}${r.switches.stoppedEarly ? ` (${r.switches.stoppedEarly})` : ""}`,
      `    command to completion            ${stats(r.switches.durations.command)}`,
      `    command to first new-colour answer ${stats(r.switches.durations.toFirstNew)}`,
      `    command to last old-colour answer  ${stats(r.switches.durations.toLastOld)}`,
    );
    for (const t of r.switches.list.filter((t) => !t.ok).slice(0, 5)) {
      lines.push(`    #${t.index + 1} ${t.step}: ${t.detail}`);
    }
    lines.push("  criteria");
    for (const c of r.criteria)
      lines.push(`    ${mark(c.passed)} ${c.name}: ${c.actual} (expected ${c.expected})`);
  }
  if (r.faults.length > 0) {
    lines.push("  faults");
    for (const f of r.faults) {
      lines.push(
        `    ${mark(f.passed)} ${f.fault} (${(f.durationMs / 1000).toFixed(1)} s, ${num(f.requests.sent)} requests, ${num(f.requests.failed)} failed)`,
        `         expected: ${f.expected}`,
        `         happened: ${f.happened}`,
      );
    }
  }
  return lines.join("\n");
}
