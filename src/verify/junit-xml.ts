import type { VerifyReport } from "./verify-report.js";

const xmlText = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .split("")
    // XML 1.0 has no place for control characters other than tab, newline and carriage return.
    .filter((c) => c.charCodeAt(0) >= 0x20 || c === "\t" || c === "\n" || c === "\r")
    .join("");

const seconds = (ms: number) => (ms / 1000).toFixed(3);

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly timeMs: number;
  readonly failure: string | null;
  readonly out: string;
}

/** JUnit XML for CI: one test case per criterion and one per fault. */
export function toJUnitXml(report: VerifyReport): string {
  const cases: Case[] = [
    ...report.criteria.map((c) => ({
      classname: "cutover.verify.criteria",
      name: c.name,
      timeMs: 0,
      failure: c.passed ? null : `expected ${c.expected}, got ${c.actual}`,
      out: `${c.actual} (expected ${c.expected})`,
    })),
    ...report.faults.map((f) => ({
      classname: "cutover.verify.faults",
      name: f.fault,
      timeMs: f.durationMs,
      failure: f.passed ? null : `expected: ${f.expected}\nhappened: ${f.happened}`,
      out: `expected: ${f.expected}\nhappened: ${f.happened}`,
    })),
  ];
  const failures = cases.filter((c) => c.failure !== null).length;
  const d = report.switches.durations;
  const properties: Array<[string, string | number | null]> = [
    ["target", report.target],
    ["requests", report.requests.sent],
    ["failed", report.requests.failed],
    ["switches", report.switches.performed],
    ["switch.toFirstNew.medianMs", d.toFirstNew.medianMs],
    ["switch.toFirstNew.maxMs", d.toFirstNew.maxMs],
    ["switch.toLastOld.medianMs", d.toLastOld.medianMs],
    ["switch.toLastOld.maxMs", d.toLastOld.maxMs],
  ];
  const body = cases.map((c) => {
    const open = `    <testcase classname="${xmlText(c.classname)}" name="${xmlText(c.name)}" time="${seconds(c.timeMs)}">`;
    const failure =
      c.failure === null
        ? ""
        : `\n      <failure message="${xmlText(c.failure.split("\n")[0] ?? "")}">${xmlText(c.failure)}</failure>`;
    return `${open}${failure}\n      <system-out>${xmlText(c.out)}</system-out>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cutover verify" tests="${cases.length}" failures="${failures}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="cutover verify ${xmlText(report.target)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(report.durationMs)}" timestamp="${xmlText(report.startedAt)}">`,
    "    <properties>",
    ...properties.map(
      ([k, v]) => `      <property name="${xmlText(k)}" value="${xmlText(String(v ?? ""))}"/>`,
    ),
    "    </properties>",
    ...body,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
