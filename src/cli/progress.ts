import ora, { type Ora } from "ora";
import type { DeployRecord } from "../engine/lifecycle.js";
import { phaseText, stepLine } from "./render.js";

/**
 * Shows a deploy's steps as they change: a spinner per running step on a terminal,
 * one plain line per change in CI or when output is piped.
 */
export class DeployProgress {
  readonly #interactive: boolean;
  readonly #seen = new Map<string, string>();
  #spinner: Ora | null = null;
  #phase = "";

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#interactive = Boolean(stream.isTTY) && !process.env.CI && process.env.TERM !== "dumb";
  }

  update(record: DeployRecord): void {
    for (const step of record.steps) {
      const line = stepLine(step);
      if (this.#seen.get(step.name) === line) continue;
      this.#seen.set(step.name, line);
      this.#show(step.state, line);
    }
    if (record.phase !== this.#phase) {
      this.#phase = record.phase;
      if (record.phase === "Paused" || record.phase === "Aborted")
        this.#print(`${phaseText(record.phase)}${record.reason ? `: ${record.reason}` : ""}`);
    }
  }

  done(): void {
    this.#spinner?.stop();
    this.#spinner = null;
  }

  #show(state: string, line: string): void {
    if (state === "pending") return;
    if (!this.#interactive) {
      this.#print(`${new Date().toISOString().slice(11, 23)} ${line}`);
      return;
    }
    if (state === "running") {
      this.#spinner?.stop();
      this.#spinner = ora({ text: line.replace(/^… /, ""), stream: process.stderr }).start();
      return;
    }
    this.#spinner?.stop();
    this.#spinner = null;
    this.#print(line);
  }

  #print(line: string): void {
    if (this.#spinner) this.#spinner.clear();
    process.stderr.write(`${line}\n`);
    if (this.#spinner) this.#spinner.render();
  }
}
