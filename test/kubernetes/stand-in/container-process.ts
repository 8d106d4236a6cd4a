/**
 * One run of a container in process mode: the demo app (`node dist/examples/demo-app/src/server.js`, built
 * by `npx tsc -p tsconfig.json`) as a child process with the container's environment and nothing else
 * from the test's, as a container sees only its own. Stopping copies the kubelet's kill: SIGTERM, then
 * SIGKILL when the grace period is over; the exit code of a signalled process is 128 + the signal's number,
 * as a container runtime reports it (137 after SIGKILL).
 *
 * No process outlives the test process: each is killed by PID when the test process exits, and each watches
 * its parent (a preloaded module that polls process.ppid) and kills itself when the parent is gone, should
 * the test process be killed with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { join, resolve } from "node:path";

export const DEMO_APP = join(
  resolve(import.meta.dirname, "../../.."),
  "dist/examples/demo-app/src/server.js",
);

/** Kills itself when its parent changes (the test process died and it was re-parented). */
const WATCHDOG =
  "data:text/javascript,const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.kill(process.pid,'SIGKILL')},250).unref();";

const LOG_TAIL = 32 * 1024;

export interface ContainerExit {
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly finishedAt: Date;
}

/** Every process started and not yet exited, for the exit hook. */
const live = new Set<ChildProcess>();
let hooked = false;

function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export class ContainerProcess {
  readonly pid: number;
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  readonly #child: ChildProcess;
  #log = "";

  private constructor(child: ChildProcess) {
    if (child.pid === undefined) throw new Error("could not start the container's program");
    this.pid = child.pid;
    this.#child = child;
    live.add(child);
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString("utf8")).slice(-LOG_TAIL);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        live.delete(child);
        resolve({ exitCode: code ?? 128 + signalNumber(signal), signal, finishedAt: new Date() });
      });
    });
  }

  /**
   * Starts `program` (a Node.js script standing for the container image; default the demo app) with exactly
   * `env` (the runtime adds nothing but what a container image has).
   */
  static start(env: Readonly<Record<string, string>>, program = DEMO_APP): ContainerProcess {
    if (!existsSync(program))
      throw new Error(`${program} is not built: run \`npx tsc -p tsconfig.json\` first`);
    killAllOnExit();
    const child = spawn(process.execPath, ["--import", WATCHDOG, program], {
      env: { ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ContainerProcess(child);
  }

  /** What it wrote to stdout and stderr (the last 32 KiB), as `kubectl logs` shows. */
  get log(): string {
    return this.#log;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs: number): Promise<ContainerExit> {
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    return this.exited.finally(() => clearTimeout(timer));
  }

  kill(): Promise<ContainerExit> {
    this.#child.kill("SIGKILL");
    return this.exited;
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
