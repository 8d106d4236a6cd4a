import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/project.js";

function demo(...args: string[]): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "dist/scripts/demo.js"), ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.on("close", (code) => resolve({ code: code ?? -1, output, ms: Date.now() - started }));
  });
}

const field = (output: string, name: string) =>
  new RegExp(`^\\s+${name}\\s+(.*)$`, "m").exec(output)?.[1] ?? "";

describe("npm run demo", () => {
  it("runs a full blue-green cycle under load, analysed and reported, in under 90 s with 0 failed requests out of at least 2,000", {
    timeout: 120_000,
  }, async () => {
    const { code, output, ms } = await demo();
    expect(output).toMatch(/demo passed/);
    expect(code).toBe(0);
    expect(Number(field(output, "requests sent"))).toBeGreaterThanOrEqual(2000);
    expect(field(output, "failed").trim()).toBe("0");
    expect(field(output, "version")).toBe("before 1.0.0, after 2.0.0");
    expect(field(output, "switch")).toMatch(/first 2\.0\.0 answer [\d.]+ ms after the switch/);
    expect(field(output, "logs")).toMatch(/daemon\.log/);
    // The database side: 0002 ran before the new colour, and 1.0.0 kept writing after it.
    expect(field(output, "migration")).toMatch(/applied 0002_add_author/);
    expect(field(output, "writes")).toMatch(/^\d+ sent, 0 failed; 1\.0\.0: \d+, 2\.0\.0: \d+$/);
    expect(field(output, "old version")).toMatch(/^1\.0\.0 wrote [1-9]\d* greetings after 0002/);
    // The analysis side: the judge's verdict with its numbers, the alert, and the report on disk.
    expect(field(output, "verdict")).toMatch(/^post-switch Pass: score \d+ .*green \d+ req/);
    expect(field(output, "errorRate")).toMatch(/^green [\d.]+%, blue [\d.]+%; p .*; Pass$/);
    expect(field(output, "alert")).toMatch(/^verdict \(info\) d1: /);
    expectReport(output);
    console.log(`npm run demo: ${ms} ms`);
    expect(ms).toBeLessThan(90_000);
  });
});

// The two demos that go wrong, side by side: together they take the time of one (~20 s each alone), well
// inside --regress's 90 s bound; neither counts answers against a deadline the other could make it miss.
describe.concurrent("npm run demo, going wrong", () => {
  it("--bad: the deploy aborts, traffic never leaves blue, and the summary says why", {
    timeout: 120_000,
  }, async () => {
    const { code, output, ms } = await demo("--bad");
    console.log(`npm run demo -- --bad: ${ms} ms`);
    expect(output).toMatch(/demo passed/);
    expect(code).toBe(0);
    expect(field(output, "failed").trim()).toBe("0");
    expect(field(output, "answered by")).toMatch(/^1\.0\.0: \d+$/);
    expect(field(output, "deploy")).toMatch(/d1 Aborted: .*503.*traffic stayed on blue \(1\.0\.0\)/);
  });

  it("--regress: 10% errors after the switch fail the analysis, traffic goes back by itself, the webhook hears it, in under 90 s", {
    timeout: 120_000,
  }, async () => {
    const { code, output, ms } = await demo("--regress");
    expect(output).toMatch(/demo passed/);
    expect(code).toBe(0);
    expect(field(output, "version")).toBe("before 1.0.0, after 1.0.0");
    expect(field(output, "failed")).toMatch(/^\d+ \{"HTTP 500":\d+\}$/); // v2's injected errors only
    expect(field(output, "deploy")).toMatch(
      /d1 Aborted: post-switch analysis: Fail: errorRate .*rolled back/,
    );
    expect(field(output, "rollback")).toMatch(/^automatic, [\d.]+ s after the switch/);
    expect(field(output, "verdict")).toMatch(/^post-switch Fail: errorRate [\d.]+% > max 1\.0% on green/);
    expect(output).toMatch(/^\s+alert\s+verdict \(error\) d1: /m);
    expect(output).toMatch(/^\s+alert\s+rollback \(error\) d1: rolled back to blue/m);
    expect(field(output, "report shows")).toMatch(/^Rolled back/);
    expectReport(output);
    console.log(`npm run demo -- --regress: ${ms} ms`);
    expect(ms).toBeLessThan(90_000);
  });
});

/** The demo printed the paths of the deploy's HTML and PNG report, and both exist. */
function expectReport(output: string): void {
  const html = field(output, "report html");
  const png = field(output, "report png");
  expect(html).toMatch(/reports\/d1\.html$/);
  expect(png).toMatch(/reports\/d1\.png$/);
  expect(existsSync(html)).toBe(true);
  expect(existsSync(png)).toBe(true);
}
