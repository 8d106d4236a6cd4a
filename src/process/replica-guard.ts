/**
 * The replica guard: a small process between the supervisor and one replica, so that no replica outlives
 * its supervisor, even one killed with SIGKILL.
 *
 *   node replica-guard.js <stopGraceMs> <command>
 *
 * It runs `/bin/sh -c <command>` detached into a process group of its own and reports the pid over IPC.
 * SIGTERM and SIGINT are forwarded to the group, then SIGKILL after the grace period. When its stdin
 * closes (the supervisor died) it stops the group the same way. When the command exits, whatever is left
 * in the group gets the same treatment; then the guard exits with the command's exit code or signal.
 */

import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { SpawnedMessage } from "./guard-protocol.js";
import { RotatingLog } from "./rotating-log.js";
import { execPrefixed } from "./shell-command.js";

/** How long a group may linger after SIGKILL (an unreaped zombie keeps it alive) before the guard gives up. */
const KILL_WAIT_MS = 1000;
const POLL_MS = 25;

class ReplicaGuard {
  readonly #child: ChildProcess;
  readonly #graceMs: number;
  #terminating = false;
  #killedAt: number | null = null;

  /** Where the service's output goes when the guard writes it itself (rotated by size); else to the guard's own. */
  readonly #log: RotatingLog | null;
  /** The service's stdout and stderr, read to their end before the guard exits. */
  #outputDone: Promise<unknown> = Promise.resolve();

  /**
   * Installs the signal handlers, then spawns the command: a SIGTERM that arrives while the spawn is under
   * way is then handled (forwarded to the new group) instead of killing the guard by default and leaving
   * the service orphaned, its pid never reported.
   */
  constructor(command: string, graceMs: number, log: RotatingLog | null) {
    this.#graceMs = graceMs;
    this.#log = log;
    process.on("SIGTERM", () => this.#terminate("SIGTERM"));
    process.on("SIGINT", () => this.#terminate("SIGINT"));
    this.#child = spawn("/bin/sh", ["-c", execPrefixed(command)], {
      stdio: ["ignore", log ? "pipe" : "inherit", log ? "pipe" : "inherit"],
      detached: true,
    });
    if (log) this.#outputDone = Promise.all([this.#copy(this.#child.stdout), this.#copy(this.#child.stderr)]);
  }

  #copy(stream: Readable | null): Promise<void> {
    if (!stream) return Promise.resolve();
    stream.on("data", (chunk: Buffer) => {
      try {
        this.#log?.write(chunk);
      } catch {
        // A full disk must not stop the service: the line is lost.
      }
    });
    return new Promise((resolve) => {
      stream.once("close", () => resolve());
      stream.once("error", () => resolve());
    });
  }

  run(): void {
    process.stdin.on("close", () => this.#supervisorGone());
    process.stdin.on("error", () => this.#supervisorGone());
    process.stdin.resume();
    this.#child.once("error", (error) => this.#cannotStart(error));
    this.#child.once("exit", (code, signal) => void this.#childExited(code, signal));
    if (this.#child.pid !== undefined) this.#report({ type: "spawned", pid: this.#child.pid });
  }

  #report(message: SpawnedMessage): void {
    process.send?.(message, undefined, {}, () => {});
  }

  #supervisorGone(): void {
    if (this.#terminating) return;
    console.error("[replica-guard] the supervisor is gone; stopping the replica");
    this.#terminate("SIGTERM");
  }

  #terminate(signal: NodeJS.Signals): void {
    this.#signalGroup(signal);
    if (this.#terminating) return;
    this.#terminating = true;
    setTimeout(() => this.#kill(), this.#graceMs);
  }

  #kill(): void {
    this.#killedAt ??= Date.now();
    this.#signalGroup("SIGKILL");
  }

  /** Sends `signal` to the group; false when the group is gone. */
  #signalGroup(signal: NodeJS.Signals | 0): boolean {
    if (this.#child.pid === undefined) return false;
    try {
      process.kill(-this.#child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  async #childExited(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.#signalGroup(0)) this.#terminate("SIGTERM");
    while (this.#signalGroup(0) && !this.#gaveUp()) await sleep(POLL_MS);
    // What the service wrote last is still in the pipes: copy it before exiting (the group is gone, so they end).
    await Promise.race([this.#outputDone, sleep(KILL_WAIT_MS)]);
    this.#log?.close();
    exitLike(code, signal);
  }

  #gaveUp(): boolean {
    return this.#killedAt !== null && Date.now() - this.#killedAt > KILL_WAIT_MS;
  }

  #cannotStart(error: Error): void {
    console.error(`[replica-guard] could not start /bin/sh: ${error.message}`);
    process.exit(127);
  }
}

/** Ends this process the way the command ended: same exit code, or killed by the same signal. */
function exitLike(code: number | null, signal: NodeJS.Signals | null): void {
  if (signal === null) process.exit(code ?? 1);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  setTimeout(() => process.exit(1), 1000);
}

function main(argv: readonly string[]): void {
  const [grace, command, logFile, maxBytes, keep] = argv;
  const graceMs = Number(grace);
  if (command === undefined || command === "" || !Number.isFinite(graceMs)) {
    console.error("usage: replica-guard <stopGraceMs> <command> [<logFile> <maxBytes> <keep>]");
    process.exit(2);
  }
  const log = logFile
    ? new RotatingLog(logFile, {
        maxBytes: Number(maxBytes) || Number.POSITIVE_INFINITY,
        keep: Number(keep) || 0,
      })
    : null;
  new ReplicaGuard(command, graceMs, log).run();
}

main(process.argv.slice(2));
