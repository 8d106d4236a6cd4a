import type { Colour } from "../../colour.js";
import type { ReplicaStatus } from "../../engine/ports/platform.js";
import { CutoverError } from "../../errors.js";

/** A replica that is not ready, with the last lines of its log. */
export interface NotReadyReplica {
  readonly status: ReplicaStatus;
  readonly logTail: readonly string[];
}

/** waitReady gave up: some replicas of a colour did not become ready. */
export class ReplicasNotReadyError extends CutoverError {
  readonly colour: Colour;
  readonly replicas: readonly NotReadyReplica[];

  /** `reason` says when waiting stopped, e.g. "after 5.00s" or "because the wait was aborted". */
  constructor(colour: Colour, version: string | null, reason: string, replicas: readonly NotReadyReplica[]) {
    super("REPLICAS_NOT_READY", notReadyMessage(colour, version, reason, replicas));
    this.name = "ReplicasNotReadyError";
    this.colour = colour;
    this.replicas = replicas;
  }

  /** "2 replica(s) of green (version 2.0.0) not ready after 4.00s: green-0: GET /health answered 503: ..." */
  override get summary(): string {
    const first = this.replicas[0];
    const head = this.message.split("\n")[0] ?? "";
    if (!first) return head;
    const problem = first.status.lastProblem ?? "no health check has answered yet";
    return `${head} ${first.status.id}: ${problem}`.slice(0, 300);
  }
}

function notReadyMessage(
  colour: Colour,
  version: string | null,
  reason: string,
  replicas: readonly NotReadyReplica[],
): string {
  if (version === null) return `${colour} runs no replicas (${reason}); start a version on it first`;
  const head = `${replicas.length} replica(s) of ${colour} (version ${version}) not ready ${reason}:`;
  const advice =
    "Read the log lines above, fix the service or its health check in cutover.yaml, then deploy again.";
  return [head, ...replicas.flatMap(describeReplica), advice].join("\n");
}

function describeReplica({ status, logTail }: NotReadyReplica): string[] {
  const facts = [
    status.state,
    `port ${status.port}`,
    `pid ${status.pid ?? "none"}`,
    `${status.restarts} restarts`,
  ];
  const problem = status.lastProblem ?? "no health check has answered yet";
  const log = logTail.length === 0 ? "(empty)" : "last lines:";
  return [
    `  ${status.id} (${facts.join(", ")}): ${problem}`,
    `    log ${status.logFile} ${log}`,
    ...logTail.map((line) => `      | ${line}`),
  ];
}

/** start.cwd names a directory that does not exist. */
export class StartDirectoryMissingError extends CutoverError {
  constructor(directory: string) {
    super(
      "START_CWD_MISSING",
      `start.cwd is ${directory}, which is not a directory; fix start.cwd in cutover.yaml (it is relative to the file)`,
    );
    this.name = "StartDirectoryMissingError";
  }
}
