import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerReportCommand } from "../../src/cli/commands/report.js";
import { Output } from "../../src/cli/output.js";
import { parseConfig } from "../../src/config/load.js";
import { journalPath, readJournal } from "../../src/report/deploy-journal.js";
import type { JournalLine } from "../../src/report/deploy-journal-format.js";
import { latestReport } from "../../src/report/report-location.js";
import { writeReport } from "../../src/report/write-report.js";
import { ROOT } from "../helpers/project.js";

const T0 = Date.parse("2025-03-01T10:00:00.000Z");

/** A journal as the daemon writes it: 40 ticks of 500 ms, switch at 10 s, rollback at 14 s (green had 6% errors). */
function journalLines(): JournalLine[] {
  const lines: JournalLine[] = [
    { type: "meta", deployId: "d9", service: "shop", version: "2.0.0", source: "router", intervalMs: 500 },
  ];
  for (let i = 0; i < 40; i++) {
    const at = T0 + 500 * (i + 1);
    const greenLive = at > T0 + 10_000 && at <= T0 + 14_000;
    const sample = (live: boolean, errorRate: number, latency: number) => ({
      at,
      intervalMs: 500,
      requests: live ? 50 : 25,
      errors: Math.round((live ? 50 : 25) * errorRate),
      requestRate: live ? 100 : 50,
      errorRate,
      p50: latency,
      p95: latency * 1.3,
      p99: latency * 1.6,
      saturation: null,
    });
    lines.push({
      type: "tick",
      at,
      samples: {
        blue: sample(!greenLive, 0.002 * (i % 3), 0.031),
        green: sample(greenLive, 0.06 + 0.01 * (i % 2), 0.033),
      },
    });
  }
  lines.push({
    type: "analysis",
    phase: "post-switch",
    canary: "green",
    baseline: "blue",
    verdict: "Fail",
    summary: "errorRate 6.4% > max 1.0% on green; 4/30 measurements: 2 failed, 0 inconclusive",
    score: 0,
    metrics: [
      {
        metric: "errorRate",
        classification: "High",
        canaryMean: 0.064,
        baselineMean: 0.002,
        effectSize: 32,
        pValue: 0.0002,
        reason: "higher",
      },
      {
        metric: "p99",
        classification: "Pass",
        canaryMean: 0.052,
        baselineMean: 0.05,
        effectSize: 1.04,
        pValue: 0.4,
        reason: "no meaningful difference",
      },
    ],
    baselineFrom: "live",
    startedAt: T0 + 10_000,
    endedAt: T0 + 14_000,
    measurements: [
      { index: 1, at: T0 + 10_500, status: "Fail", detail: "errorRate 6.4% > max 1.0% on green" },
    ],
  });
  lines.push({
    type: "record",
    record: {
      id: "d9",
      kind: "deploy",
      version: "2.0.0",
      from: { colour: "blue", version: "1.0.0" },
      to: { colour: "green", version: "2.0.0" },
      phase: "Aborted",
      startedAt: new Date(T0 + 3_000).toISOString(),
      switchedAt: new Date(T0 + 10_000).toISOString(),
      rolledBackAt: new Date(T0 + 14_000).toISOString(),
      reason: "post-switch analysis failed: errorRate 6.4% > max 1.0% on green",
    },
  });
  return lines;
}

function project(): { dir: string; loaded: ReturnType<typeof parseConfig> } {
  const dir = mkdtempSync(join(tmpdir(), "cutover-report-"));
  const loaded = parseConfig(
    "service: shop\nversion: 1.0.0\nstart:\n  command: 'true'\nanalysis:\n  report: { dir: out }\n",
    join(dir, "cutover.yaml"),
  );
  mkdirSync(join(loaded.stateDir, "analysis"), { recursive: true });
  writeFileSync(
    journalPath(loaded.stateDir, "d9"),
    `${journalLines()
      .map((l) => JSON.stringify(l))
      .join("\n")}\n{"type":"tick","at":`,
  );
  return { dir, loaded };
}

describe("deploy report", () => {
  it("writes a self-contained HTML page and a PNG with the charts, the switch and the rollback", async () => {
    const { dir, loaded } = project();
    const journal = readJournal(journalPath(loaded.stateDir, "d9"));
    expect(journal.ticks).toHaveLength(40); // the line cut short at the end is skipped
    const written = await writeReport(journal, join(dir, "reports"));
    const html = readFileSync(written.html, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain("<svg");
    for (const text of [
      "Rolled back",
      // The 2x2 grid: error rate, latency (p50, p99), request rate, and the verdict with the moments.
      "Error rate",
      "Latency (p50, p99)",
      "Request rate",
      "Verdict and moments",
      "blue 1.0.0 live",
      "switch blue → green",
      "rollback → blue",
      "errors (%)",
      "latency (ms)",
      "requests per second",
      "post-switch analysis",
    ]) {
      expect(html).toContain(text);
    }
    const png = readFileSync(written.png);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBeGreaterThan(800); // width
    expect(png.readUInt32BE(20)).toBeGreaterThan(600); // height
    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    copyFileSync(written.png, join(ROOT, "test-artifacts/report-fixture.png"));
  });

  it("`cutover report [deploy-id]` writes it into the configured folder and prints where", async () => {
    const { dir, loaded } = project();
    let printed = "";
    const program = new Command().exitOverride();
    registerReportCommand(program, {
      config: () => loaded,
      output: () => new Output(true),
    });
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      printed += chunk;
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(["node", "cutover", "report"]);
    } finally {
      process.stdout.write = write;
    }
    const result = JSON.parse(printed) as { deploy: string; html: string; png: string };
    expect(result).toEqual({
      deploy: "d9",
      html: join(dir, "out", "d9.html"),
      png: join(dir, "out", "d9.png"),
    });
    expect(latestReport(loaded)).toBe(join(dir, "out", "d9.html"));
    await expect(program.parseAsync(["node", "cutover", "report", "d404"])).rejects.toThrow(
      /no deploy journal at .*d404\.jsonl/,
    );
  });
});
