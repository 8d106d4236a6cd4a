import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/** A server the bench started; stopped by its pid. */
export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The first stdout line that parses as JSON (servers announce their port this way). */
  readonly announced: Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stderr (and stdout, when not announcing) go here. */
  readonly logFile: string;
  /** Keep stdin as a pipe (the cutover router takes its switch command there). */
  readonly stdin?: boolean;
  /** Read stdout for a JSON announcement line instead of sending it to the log. */
  readonly announces?: boolean;
  /** The signal that stops it. Default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
}

const KILL_AFTER_MS = 3_000;

/**
 * Every process the bench starts, so that all of them are stopped by pid at the end, on an error, and on
 * Ctrl-C: the bench must never leave a server running.
 */
export class BenchProcesses {
  readonly #running = new Set<BenchProcess>();
  readonly #stoppers = new Set<() => Promise<void>>();

  constructor() {
    const stopAndExit = (signal: NodeJS.Signals) => {
      void this.stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", stopAndExit);
    process.once("SIGTERM", stopAndExit);
  }

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): BenchProcess {
    const log = openSync(options.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: [options.stdin ? "pipe" : "ignore", options.announces ? "pipe" : log, log],
      });
    } finally {
      closeSync(log);
    }
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once("exit", () => resolve());
    });
    const started: BenchProcess = {
      name,
      pid,
      child,
      announced: options.announces ? announcement(name, child) : Promise.resolve({}),
      stop: async () => {
        this.#running.delete(started);
        if (child.exitCode !== null || child.signalCode !== null) return;
        signal(pid, options.stopSignal ?? "SIGTERM");
        const timer = setTimeout(() => signal(pid, "SIGKILL"), KILL_AFTER_MS);
        await exited;
        clearTimeout(timer);
      },
    };
    this.#running.add(started);
    return started;
  }

  /** Registers another way to stop something (a data plane the bench started through its own class). */
  onStop(stop: () => Promise<void>): void {
    this.#stoppers.add(stop);
  }

  async stopAll(): Promise<void> {
    const stoppers = [...this.#stoppers];
    this.#stoppers.clear();
    await Promise.allSettled(stoppers.map((stop) => stop()));
    await Promise.allSettled([...this.#running].map((running) => running.stop()));
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function announcement(name: string, child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        try {
          const parsed: unknown = JSON.parse(line);
          if (typeof parsed !== "object" || parsed === null) continue;
          child.stdout?.off("data", onData);
          child.stdout?.resume();
          resolve(parsed as Record<string, unknown>);
          return;
        } catch {
          // not a JSON line (yet)
        }
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
}
