import { readFileSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { CutoverError } from "../../errors.js";
import { describeExit, GuardedProcess, type ProcessExit } from "../../process/guarded-process.js";
import type { HaproxyAdminSocket } from "./haproxy-admin-socket.js";

/** HAProxy exited, or its admin socket never answered, while it was starting. */
export class HaproxyStartError extends CutoverError {
  constructor(detail: string, logFile: string) {
    super(
      "HAPROXY_START",
      `HAProxy did not start: ${detail}; see ${logFile} (a listen address in use means another process has router.listen or router.preview)`,
    );
    this.name = "HaproxyStartError";
  }
}

export interface HaproxyProcessOptions {
  readonly binary: string;
  readonly configFile: string;
  /** HAProxy's own output (alerts, warnings) is appended here. */
  readonly logFile: string;
  readonly socket: HaproxyAdminSocket;
  readonly cwd: string;
  /** How long HAProxy has to answer on its admin socket. Default 10 s. */
  readonly startTimeoutMs?: number;
}

const POLL_MS = 20;
const STOP_GRACE_MS = 3_000;

/**
 * A HAProxy that cutover started, in the foreground (-db), under the replica guard, so that it cannot
 * outlive cutover even when cutover is killed.
 */
export class HaproxyProcess {
  readonly #guarded: GuardedProcess;
  #exit: ProcessExit | null = null;

  private constructor(options: HaproxyProcessOptions) {
    this.#guarded = new GuardedProcess({
      command: `${shellQuote(options.binary)} -db -f ${shellQuote(options.configFile)}`,
      env: process.env,
      cwd: options.cwd,
      logFile: options.logFile,
      stopGraceMs: STOP_GRACE_MS,
      onPid: () => {},
    });
    void this.#guarded.exited.then((exit) => {
      this.#exit = exit;
    });
  }

  /** Starts HAProxy; resolves once its admin socket answers. */
  static async start(options: HaproxyProcessOptions): Promise<HaproxyProcess> {
    const logStart = sizeOf(options.logFile);
    const started = new HaproxyProcess(options);
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    for (;;) {
      if (started.#exit !== null) {
        throw new HaproxyStartError(
          `${describeExit(started.#exit)}: ${alerts(options.logFile, logStart)}`,
          options.logFile,
        );
      }
      const answered = await options.socket.send("show info").then(
        (answer) => answer.includes("Name: HAProxy"),
        () => false,
      );
      if (answered) return started;
      if (Date.now() > deadline) {
        await started.stop();
        throw new HaproxyStartError(`no answer on ${options.socket.path} in time`, options.logFile);
      }
      await sleep(POLL_MS);
    }
  }

  /** HAProxy's pid; null until the guard has reported it. */
  get pid(): number | null {
    return this.#guarded.pid;
  }

  /** Resolves when HAProxy exits, for whatever reason; "exited with code 1", "killed by SIGTERM". */
  get exited(): Promise<string> {
    return this.#guarded.exited.then(describeExit);
  }

  /** Stops HAProxy at once (SIGTERM: open connections are closed), SIGKILL after a grace period. */
  async stop(): Promise<void> {
    await this.#guarded.terminate();
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** HAProxy's [ALERT] lines from its log (written after byte `from`), for an error message. */
function alerts(logFile: string, from: number): string {
  let text = "";
  try {
    text = readFileSync(logFile).subarray(from).toString("utf8");
  } catch {
    return "(no output)";
  }
  const lines = text.split("\n").filter((line) => line.includes("[ALERT]"));
  return (lines.length > 0 ? lines : text.trim().split("\n").slice(-3)).join(" | ").slice(0, 1_000);
}

function shellQuote(value: string): string {
  return /^[\w./@-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
