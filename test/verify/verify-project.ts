/**
 * Projects for drills: the test project (test/helpers/project.ts) with the releases the faults need, a
 * chosen scale-down delay, and optionally its state folder somewhere else (a tmpfs, a tiny filesystem).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { VerifyReport } from "../../src/verify/verify-report.js";
import {
  type CliResult,
  makeProject,
  type Project,
  type ProjectOptions,
  runCli,
} from "../helpers/project.js";

export interface DrillProjectOptions extends ProjectOptions {
  /** How long the old colour stays warm (the test project's default is 1s). */
  readonly scaleDownDelay?: string;
  /** An absolute stateDir instead of .cutover. */
  readonly stateDir?: string;
}

/** Versions the faults need, as release folders running the demo app with its misbehaviour knobs. */
export const FAULT_RELEASES = {
  unhealthy: { FAIL_HEALTH: "1" },
  slow: { SLOW_START_S: "2" },
  erroring: { ERROR_RATIO: "1" },
} as const;

export const FAULT_VERSION_FLAGS = [
  "--unhealthy-version",
  "unhealthy",
  "--slow-version",
  "slow",
  "--erroring-version",
  "erroring",
];

export async function makeDrillProject(options: DrillProjectOptions = {}): Promise<Project> {
  const project = await makeProject({ replicas: 2, ...options });
  let text = readFileSync(project.config, "utf8");
  if (options.scaleDownDelay)
    text = text.replace("scaleDownDelay: 1s", `scaleDownDelay: ${options.scaleDownDelay}`);
  if (options.stateDir) text += `stateDir: ${options.stateDir}\n`;
  writeFileSync(project.config, text);
  project.release("2.0.0");
  for (const [version, env] of Object.entries(FAULT_RELEASES)) project.release(version, env);
  return project;
}

/** A state folder on tmpfs when there is one (fsync there costs nothing); undefined: the default .cutover. */
export function fastStateDir(): string | undefined {
  try {
    return mkdtempSync("/dev/shm/cutover-state-");
  } catch {
    return undefined;
  }
}

/** `cutover up`; remembers the project so that `downAll` stops it. */
export async function up(project: Project, started: Project[]): Promise<void> {
  started.push(project);
  const result = await runCli(project, "up");
  if (result.code !== 0) throw new Error(`cutover up failed (${result.code}): ${result.stderr}`);
}

export async function downAll(started: Project[]): Promise<void> {
  for (const project of started.splice(0)) await runCli(project, "down");
}

/** The --json report of a `cutover verify` run, with its exit code. */
export function reportOf(result: CliResult): VerifyReport {
  try {
    return JSON.parse(result.stdout) as VerifyReport;
  } catch {
    throw new Error(
      `cutover verify printed no JSON report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}
