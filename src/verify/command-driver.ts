import { spawn } from "node:child_process";
import type { SwitchDriver, SwitchOutcome } from "./switch-driver.js";

export interface CommandDriverOptions {
  /** Moves traffic to the other side; run through /bin/sh. */
  readonly switchCommand: string;
  /** For `rollback` steps; the switch command when not given. */
  readonly rollbackCommand?: string;
  /** For `deploy:<version>` steps; {version} is replaced and VERSION is set. */
  readonly deployCommand?: string;
  readonly timeoutMs: number;
}

/** Switches anything with shell commands; the drill learns which side answers from the responses. */
export class CommandDriver implements SwitchDriver {
  readonly description: string;
  readonly #o: CommandDriverOptions;

  constructor(options: CommandDriverOptions) {
    this.#o = options;
    this.description = `command: ${options.switchCommand}`;
  }

  switchOver(kind: "switch" | "rollback"): Promise<SwitchOutcome> {
    const command =
      kind === "rollback" ? (this.#o.rollbackCommand ?? this.#o.switchCommand) : this.#o.switchCommand;
    return this.#run(command, {});
  }

  deploy(version: string): Promise<SwitchOutcome> {
    const template = this.#o.deployCommand ?? this.#o.switchCommand;
    return this.#run(template.replaceAll("{version}", version), { VERSION: version });
  }

  async #run(command: string, env: Record<string, string>): Promise<SwitchOutcome> {
    const { code, output } = await runShell(command, env, this.#o.timeoutMs);
    const tail = output.trim().split("\n").slice(-3).join(" | ");
    return {
      // The drill knows who served before (from the answers) and who after.
      from: null,
      expected: null,
      ok: code === 0,
      detail: `exit ${code ?? "timeout"}${code === 0 || tail === "" ? "" : `: ${tail}`}`,
      deployId: null,
    };
  }
}

/** Runs `command` through /bin/sh; its output is kept (not printed) so that --json stays clean. */
function runShell(
  command: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4096);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, output: error.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? null : code, output });
    });
  });
}
