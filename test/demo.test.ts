import { spawn } from "node:child_process";
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
  it("runs a full blue-green cycle under load in under 60 s with 0 failed requests out of at least 2,000", async () => {
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
    expect(ms).toBeLessThan(60_000);
  });

  it("--bad: the deploy aborts, traffic never leaves blue, and the summary says why", async () => {
    const { code, output } = await demo("--bad");
    expect(output).toMatch(/demo passed/);
    expect(code).toBe(0);
    expect(field(output, "failed").trim()).toBe("0");
    expect(field(output, "answered by")).toMatch(/^1\.0\.0: \d+$/);
    expect(field(output, "deploy")).toMatch(/d1 Aborted: .*503.*traffic stayed on blue \(1\.0\.0\)/);
  });
});
