import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { guardScriptPath } from "./guard-path.js";
import { guardArguments, isSpawnedMessage } from "./guard-protocol.js";
import type { LogRotation } from "./rotating-log.js";

export interface GuardedProcessOptions {
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** stdout and stderr of the guard and the service are appended here. */
  readonly logFile: string;
  /** When set, the guard writes the service's output to logFile itself, rotating it by size. */
  readonly logRotation?: LogRotation | undefined;
  readonly stopGraceMs: number;
  /** Called once the guard reports the service's pid. */
  readonly onPid: (pid: number) => void;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the guard itself could not be started. */
  readonly error?: string;
}

/** The guard waits this long past the stop grace for its group; after that the supervisor kills both. */
const FALLBACK_MARGIN_MS = 2000;

/** One run of a service, spawned through the replica guard so that it cannot outlive this process. */
export class GuardedProcess {
  readonly exited: Promise<ProcessExit>;
  readonly #guard: ChildProcess;
  readonly #stopGraceMs: number;
  #pid: number | null = null;
  #terminating = false;

  constructor(options: GuardedProcessOptions) {
    this.#stopGraceMs = options.stopGraceMs;
    this.#guard = spawnGuard(options);
    this.#guard.stdin?.on("error", () => {});
    this.#guard.on("message", (message) => {
      if (!isSpawnedMessage(message)) return;
      this.#pid = message.pid;
      options.onPid(message.pid);
    });
    this.exited = new Promise((resolve) => {
      this.#guard.once("exit", (code, signal) => resolve({ code, signal }));
      this.#guard.once("error", (error) => resolve({ code: null, signal: null, error: error.message }));
    });
    void this.exited.then(() => this.#killGroup());
  }

  /** The service's pid (and process group id); null until the guard has reported it. */
  get pid(): number | null {
    return this.#pid;
  }

  /** SIGTERM to the service's group, SIGKILL after the stop grace; resolves when it has exited. */
  terminate(): Promise<ProcessExit> {
    if (this.#terminating) return this.exited;
    this.#terminating = true;
    this.#guard.kill("SIGTERM");
    const fallback = setTimeout(() => this.#killAll(), this.#stopGraceMs + FALLBACK_MARGIN_MS);
    void this.exited.then(() => clearTimeout(fallback));
    return this.exited;
  }

  #killAll(): void {
    this.#killGroup();
    this.#guard.kill("SIGKILL");
  }

  /** Insurance for a guard that died without cleaning up (kill -9 of the guard itself). */
  #killGroup(): void {
    if (this.#pid === null) return;
    try {
      process.kill(-this.#pid, "SIGKILL");
    } catch {
      // The group is gone, as it should be.
    }
  }
}

function spawnGuard(options: GuardedProcessOptions): ChildProcess {
  const log = openSync(options.logFile, "a");
  try {
    return spawn(
      process.execPath,
      [
        guardScriptPath(),
        ...guardArguments(
          options.stopGraceMs,
          options.command,
          options.logRotation && { file: options.logFile, ...options.logRotation },
        ),
      ],
      {
        cwd: options.cwd,
        env: options.env,
        stdio: ["pipe", log, log, "ipc"],
        detached: true,
      },
    );
  } finally {
    closeSync(log);
  }
}

/** An exit in words: "exited with code 1", "killed by SIGKILL". */
export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not be started: ${exit.error}`;
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? "unknown"}`;
}
