import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/process/backoff.js";
import { execPrefixed, fillTemplate } from "../../src/process/shell-command.js";

describe("execPrefixed", () => {
  it("lets one simple command replace the shell", () => {
    expect(execPrefixed("node server.js --port $PORT")).toBe("exec node server.js --port $PORT");
    expect(execPrefixed("  npm start > out.log 2>&1 ")).toBe("exec npm start > out.log 2>&1");
  });

  it("leaves lists, pipelines, assignments and builtins to the shell", () => {
    for (const command of [
      'trap "" TERM; node a.js',
      "cd app && node a.js",
      "node a.js | tee log",
      "FOO=1 node a.js",
      "exec node a.js",
      "exit 3",
      "(node a.js)",
      "node a.js &",
    ]) {
      expect(execPrefixed(command)).toBe(command);
    }
  });
});

describe("fillTemplate", () => {
  it("fills the known names and keeps the rest", () => {
    expect(fillTemplate("v{version} on {port} {other}", { version: "1.0", port: "80" })).toBe(
      "v1.0 on 80 {other}",
    );
  });
});

describe("Backoff", () => {
  it("doubles up to the maximum and starts again after a reset", () => {
    const backoff = new Backoff(100, 500);
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([100, 200, 400, 500, 500]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
