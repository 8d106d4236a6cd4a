import { spawn } from "node:child_process";
import { resolve } from "node:path";

/** The built cutover CLI: `npm run build` (or `npx tsc -p tsconfig.json`) first. */
const MIGRATE_CLI = resolve(import.meta.dirname, "../../../dist/src/cli/main.js");

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cutover <args>` (the migrate commands) in a process of its own, in `cwd`. */
export function runMigrateCli(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return startMigrateCli(cwd, args, env).done;
}

export interface StartedCli {
  readonly done: Promise<CliRun>;
  /** What it has written to stderr so far (its log lines). */
  stderr(): string;
}

export function startMigrateCli(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): StartedCli {
  let stderr = "";
  const done = new Promise<CliRun>((finished) => {
    const child = spawn(process.execPath, [MIGRATE_CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (code) => finished({ code: code ?? -1, stdout, stderr }));
  });
  return { done, stderr: () => stderr };
}
