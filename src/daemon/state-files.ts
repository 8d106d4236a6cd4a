import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/atomic-write.js";

export { isProcessAlive } from "../process/process-alive.js";

export const TOKEN_FILE = "token";
export const DAEMON_FILE = "daemon.json";
export const DAEMON_LOG = "daemon.log";

/** Where a running daemon can be reached; written by the daemon, read by the CLI. */
export interface DaemonInfo {
  readonly pid: number;
  readonly admin: string;
  readonly listen: string;
  readonly preview: string;
  readonly startedAt: string;
  /** The cutover it runs (build.ts): `cutover up` of another build hands over to itself. */
  readonly build?: string;
  /** The systemd unit that runs it (and would start it again), when one does. */
  readonly systemdUnit?: string;
  /** False while it brings the service back (`engine.up`); true once it serves. Older daemons leave it out. */
  readonly ready?: boolean;
}

/**
 * The systemd service running this process, or undefined: systemd (pid 1) started it, not a `cutover up` (the
 * environment's INVOCATION_ID alone is inherited by whatever a service starts); the unit is in its cgroup.
 */
export function systemdUnit(): string | undefined {
  if (!process.env.INVOCATION_ID || process.ppid !== 1) return undefined;
  try {
    const cgroup = readFileSync("/proc/self/cgroup", "utf8");
    return /([^/\n]+\.service)/.exec(cgroup)?.[1];
  } catch {
    return undefined;
  }
}

/** The admin API's bearer token: random, stored with mode 0600, made once per state folder. */
export function readOrCreateToken(stateDir: string): string {
  const path = join(stateDir, TOKEN_FILE);
  if (existsSync(path)) {
    const token = readFileSync(path, "utf8").trim();
    if (token.length >= 32) return token;
  }
  const token = randomBytes(32).toString("hex");
  writeFileAtomic(path, `${token}\n`, 0o600);
  return token;
}

export function readToken(stateDir: string): string | null {
  const path = join(stateDir, TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, "utf8").trim() : null;
}

export function writeDaemonInfo(stateDir: string, info: DaemonInfo): void {
  writeFileAtomic(join(stateDir, DAEMON_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readDaemonInfo(stateDir: string): DaemonInfo | null {
  const path = join(stateDir, DAEMON_FILE);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DaemonInfo;
  } catch {
    return null;
  }
}

/** Removes daemon.json if it still names this process (a newer daemon's file is left alone). */
export function removeDaemonInfo(stateDir: string, pid: number): void {
  const info = readDaemonInfo(stateDir);
  if (info?.pid === pid) rmSync(join(stateDir, DAEMON_FILE), { force: true });
}
