/**
 * Errors a user can meet. Each carries a message that says what to do next and maps to an exit code:
 * 2 for bad input or config, 1 for a deploy that failed or was refused.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export class CutoverError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode: number = EXIT_FAILED) {
    super(message);
    this.name = "CutoverError";
    this.code = code;
    this.exitCode = exitCode;
  }

  /** One line for a history entry or a status line; the message may go on with details. */
  get summary(): string {
    return this.message.split("\n")[0] ?? this.message;
  }
}

/** cutover.yaml or a CLI argument is wrong. `problems` holds one line per problem. */
export class ConfigError extends CutoverError {
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super(
      "CONFIG_INVALID",
      `${file} is not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      EXIT_BAD_INPUT,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export class DeployInProgressError extends CutoverError {
  constructor(
    deployId: string,
    version: string,
    phase: string,
    next = "wait for it to finish, or run `cutover abort` first",
  ) {
    super(
      "DEPLOY_IN_PROGRESS",
      `deploy ${deployId} of version ${version} is in progress (phase ${phase}); ${next}`,
    );
    this.name = "DeployInProgressError";
  }
}

export class DaemonNotRunningError extends CutoverError {
  constructor(detail: string) {
    super(
      "DAEMON_NOT_RUNNING",
      `the cutover daemon is not running (${detail}); start it with \`cutover up\``,
    );
    this.name = "DaemonNotRunningError";
  }
}
