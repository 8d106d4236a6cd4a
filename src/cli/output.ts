import { redactSecrets } from "../config/interpolate.js";

/** Where a command's result goes: JSON on stdout with --json, human text otherwise. */
export class Output {
  readonly json: boolean;

  constructor(json: boolean) {
    this.json = json;
  }

  result(value: unknown, human: () => string): void {
    // A value cutover.yaml read from the environment (${VAR}) is never printed.
    const text = this.json ? JSON.stringify(value, null, 2) : human();
    process.stdout.write(`${redactSecrets(text)}\n`);
  }
}
