import { createConnection } from "node:net";
import { CutoverError } from "../../errors.js";

/** HAProxy's admin socket could not be reached, or did not answer in time. */
export class HaproxySocketError extends CutoverError {
  constructor(socketPath: string, detail: string) {
    super(
      "HAPROXY_SOCKET",
      `cannot talk to HAProxy's admin socket ${socketPath} (${detail}); check that HAProxy runs with \`stats socket ${socketPath} level admin\``,
    );
    this.name = "HaproxySocketError";
  }
}

/** HAProxy answered a runtime API command with an error. */
export class HaproxyCommandError extends CutoverError {
  readonly command: string;
  readonly answer: string;
  constructor(command: string, answer: string) {
    super(
      "HAPROXY_COMMAND",
      `HAProxy refused \`${command}\`: ${answer.trim() || "(no answer)"}; its config may not be the one cutover wrote (see the HAProxy config cutover renders)`,
    );
    this.name = "HaproxyCommandError";
    this.command = command;
    this.answer = answer;
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The runtime API over HAProxy's admin socket, one command per connection (HAProxy's non-interactive
 * mode: it runs the line, writes the answer and closes), so each answer belongs to exactly one command.
 */
export class HaproxyAdminSocket {
  readonly path: string;
  readonly #timeoutMs: number;

  constructor(path: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.path = path;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs one command and resolves with HAProxy's answer as it is. */
  send(command: string): Promise<string> {
    if (command.includes("\n") || command.includes(";")) {
      throw new Error(`one runtime API command at a time, without ";" or newlines: ${command}`);
    }
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.path);
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HaproxySocketError(this.path, `no answer to \`${command}\` within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      socket.on("connect", () => socket.end(`${command}\n`));
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new HaproxySocketError(this.path, error.code ?? error.message));
      });
      socket.on("close", (hadError) => {
        clearTimeout(timer);
        if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
      });
    });
  }

  /** Runs a command that answers nothing when it succeeds (set map, set server state, ...). */
  async run(command: string): Promise<void> {
    const answer = await this.send(command);
    if (answer.trim() !== "") throw new HaproxyCommandError(command, answer);
  }

  /** Runs a command whose success is an answer matching `ok` (set server addr, ...). */
  async expect(command: string, ok: RegExp): Promise<string> {
    const answer = await this.send(command);
    if (!ok.test(answer)) throw new HaproxyCommandError(command, answer);
    return answer;
  }
}
