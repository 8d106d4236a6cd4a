/**
 * Start-up cost: `cutover --version` loads commander and a few modules of its own, nothing else; `status`
 * with no daemon loads the config's parser but none of the heavy modules (src/cli/main.ts imports each
 * command's machinery inside its action). Every module the CLI loads is recorded by a loader hook
 * (record-loads.mjs), so a new top-level import of a heavy module in main.ts fails here.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "../helpers/project.js";

const RECORDER = join(import.meta.dirname, "record-loads.mjs");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** Modules no command needs before it runs, and the ones only a few commands need. */
const HEAVY = [
  "node_modules/@kubernetes/client-node/",
  "node_modules/libpg-query/",
  "node_modules/vega/",
  "node_modules/vega-lite/",
  "node_modules/@resvg/",
  "node_modules/@electric-sql/",
  "node_modules/undici/",
  "node_modules/pino-pretty/",
  "dist/src/verify/",
  "dist/src/dashboard/",
  "dist/src/db/",
  "dist/src/platforms/",
  "dist/src/engine/engine.js",
  "dist/src/daemon/daemon.js",
];
/** ... and, for --version, the config's parser and the logger too. */
const NOT_FOR_VERSION = [...HEAVY, "node_modules/zod/", "node_modules/yaml/", "node_modules/pino/"];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The file: URLs of the modules the process loaded, without the recorder's own. */
  readonly loaded: readonly string[];
}

function runRecorded(cwd: string, ...args: string[]): Promise<Run> {
  const log = join(cwd, `loads-${dirs.length}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, "");
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ["--import", RECORDER, CLI, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", RECORD_LOADS_TO: log },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const loaded = [
        ...new Set(
          readFileSync(log, "utf8")
            .split("\n")
            .filter((url) => url !== "" && !url.includes("/test/install/record-loads")),
        ),
      ];
      resolveRun({ code: code ?? -1, stdout, stderr, loaded });
    });
  });
}

const offending = (loaded: readonly string[], patterns: readonly string[]) =>
  loaded.filter((url) => patterns.some((pattern) => url.includes(pattern)));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-startup-"));
  dirs.push(dir);
  return dir;
}

describe("the CLI's start-up", () => {
  it("--version prints package.json's version and loads only commander and a few modules of its own", async () => {
    const run = await runRecorded(tempDir(), "--version");
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(VERSION);
    expect(run.loaded.some((url) => url.endsWith("/dist/src/cli/main.js"))).toBe(true);
    expect(offending(run.loaded, NOT_FOR_VERSION)).toEqual([]);
    // Today about a dozen (commander's files and main.js's own small imports); before lazy loading, ~440.
    expect(run.loaded.length).toBeLessThan(40);
  });

  it("status with no daemon says so, without loading the heavy modules", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "cutover.yaml"),
      'service: startup\nversion: 1.0.0\nstart:\n  command: "node server.js"\n',
    );
    const run = await runRecorded(dir, "status");
    expect(run.stderr).toMatch(/not running/);
    expect(run.code).toBe(1);
    expect(offending(run.loaded, HEAVY)).toEqual([]);
  });

  it("help still lists the commands whose modules load lazily, and each one's own help works", async () => {
    const dir = tempDir();
    const help = await runRecorded(dir, "--help");
    expect(help.code).toBe(0);
    for (const name of ["init", "status", "migrate", "verify", "dashboard", "report", "render"])
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    const migrate = await runRecorded(dir, "--json", "migrate", "--help");
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/^Usage: cutover migrate/m);
    // Only the named command's module: migrate's parser, but not the Kubernetes client or the verify machinery.
    expect(offending(migrate.loaded, ["node_modules/@kubernetes/", "dist/src/verify/"])).toEqual([]);
  });
});
