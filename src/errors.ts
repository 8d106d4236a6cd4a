/**
 * Errors a user can meet. Each carries a message that says what to do next, and a code from ERRORS below,
 * the one table that says what each code means, the CLI's exit code for it and the admin API's HTTP status.
 */
export const EXIT_OK = 0;
/** A deploy (or another command) failed or was refused. */
export const EXIT_FAILED = 1;
/** Bad input: a CLI argument, cutover.yaml, or a file or tool the config names. */
export const EXIT_BAD_INPUT = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_BAD_INPUT;

export interface ErrorSpec {
  /** What `cutover` exits with. */
  readonly exitCode: ExitCode;
  /** What the admin API answers with. */
  readonly httpStatus: number;
  /** What the code means, in one line. */
  readonly meaning: string;
}

/** Bad input or config: exit 2, HTTP 400. */
const badInput = (meaning: string): ErrorSpec => ({ exitCode: EXIT_BAD_INPUT, httpStatus: 400, meaning });
/** Refused because of the deploy's (or the service's, or the database's) state: exit 1, HTTP 409. */
const refused = (meaning: string): ErrorSpec => ({ exitCode: EXIT_FAILED, httpStatus: 409, meaning });
/** Something cutover depends on is not there or does not answer: exit 1, HTTP 503. */
const unavailable = (meaning: string): ErrorSpec => ({ exitCode: EXIT_FAILED, httpStatus: 503, meaning });
/** Failed: exit 1, HTTP 500. */
const failed = (meaning: string): ErrorSpec => ({ exitCode: EXIT_FAILED, httpStatus: 500, meaning });
/** The admin API's answers about a request itself (not about the deploy). */
const request = (httpStatus: number, meaning: string): ErrorSpec => ({
  exitCode: httpStatus === 400 ? EXIT_BAD_INPUT : EXIT_FAILED,
  httpStatus,
  meaning,
});

/** Every error code cutover uses, in one place. Sorted by name within each group. */
export const ERRORS = {
  // Bad input: a CLI argument, cutover.yaml, or what it names.
  BAD_ARGUMENT: badInput("a command-line argument is malformed or missing"),
  BAD_FAULT: badInput("`cutover verify --faults` names a fault that does not exist"),
  BAD_SEQUENCE: badInput("`cutover verify --sequence` is malformed"),
  CONFIG_INVALID: badInput("cutover.yaml (or a file it names) is not valid"),
  EXISTS: badInput("`cutover init` would overwrite an existing file without --force"),
  FAULT_NEEDS_VERSION: badInput("a `cutover verify` fault needs a version flag that was not given"),
  GATEKEEPER_NEEDS_KUBERNETES: badInput("the gatekeeper runs only with platform: kubernetes"),
  GATEKEEPER_WITHOUT_GATE: badInput("the gatekeeper needs kubernetes.readinessGate: true"),
  HAPROXY_CONFIG_MISMATCH: badInput("the running HAProxy is not set up with the config cutover renders"),
  HAPROXY_NOT_INSTALLED: badInput("no HAProxy binary where cutover looked"),
  HAPROXY_PATH: badInput("a path HAProxy's config cannot name, or a socket path too long"),
  HAPROXY_SLOTS_EXHAUSTED: badInput("a colour has more replicas than its HAProxy backends have server slots"),
  HAPROXY_TOO_OLD: badInput("the HAProxy found is older than cutover needs"),
  HOLD_UNSUPPORTED: badInput("`cutover pause` on a data plane that cannot hold requests"),
  KUBERNETES_CONFIG_MISSING: badInput("platform: kubernetes without a `kubernetes:` section"),
  KUBERNETES_CONTEXT: badInput("kubernetes.context names a context the kubeconfig does not have"),
  KUBERNETES_NO_KUBECONFIG: badInput("no kubeconfig found and not running in a cluster"),
  LEASE_TIMINGS: badInput("gatekeeper lease timings that client-go would refuse"),
  MIGRATION_FILE_INVALID: badInput("a migration file cutover cannot read (name, phase header, SQL)"),
  NO_DAEMON: badInput("--detach on a platform without a daemon to carry the deploy on"),
  NO_DATABASE: badInput("a migrate command without a `database:` section in cutover.yaml"),
  NO_FILES: badInput("`cutover migrate lint` without files and without cutover.yaml"),
  NO_FRONT_TOKEN: badInput(
    "no token for the global front's admin API: no globalFront.token, none written by `cutover global`",
  ),
  NO_GLOBAL_FRONT: badInput(
    "`cutover global` without a `globalFront: { type: builtin }` section in cutover.yaml",
  ),
  NO_JOURNAL: badInput("no deploy journal for that deploy (or none at all)"),
  NO_PREVIEW_ACCESS: badInput("`cutover preview` without `router.previewAccess` in cutover.yaml"),
  NO_ROUTER_METRICS: badInput("analysis.source.type router without the built-in router"),
  NO_TOKEN: badInput("`cutover dashboard --admin` without the daemon's token"),
  NO_TRAFFIC_MANAGER: badInput(
    "`cutover render traffic-manager` without `globalFront: { type: azure-traffic-manager }`",
  ),
  ROUTER_LISTEN_FAILED: badInput("the router cannot listen on a configured address"),
  START_CWD_MISSING: badInput("start.cwd is not a directory"),
  TARGET_NOT_ALLOWED: badInput("`cutover verify` would send load to an address it may not"),

  // Refused because of the state of the deploy, the service or the database.
  ALREADY_RUNNING: refused("a cutover daemon already runs for this state folder"),
  DAEMON_UNDER_SYSTEMD: refused("`cutover down` of a daemon systemd would start again"),
  DATAPLANE_ATTACHED: refused("another daemon is attached to the data plane process"),
  DATAPLANE_STRANGER: refused(
    "the state folder names a live process that does not answer as cutover's data plane",
  ),
  HANDOVER_DURING_DEPLOY: refused("`cutover up` would replace a daemon while it runs a deploy"),
  ASKED: refused("the holder of the deploy has already been asked to abort it"),
  DEPLOY_IN_PROGRESS: refused("another deploy is in progress"),
  EMBEDDED_DATABASE_BUSY: refused("another process has the embedded database's data folder open"),
  EXPAND_PENDING: refused("contract refused: expand migrations are not applied yet"),
  HOLD_ACTIVE: refused("requests are held already (`cutover pause` or a database switchover)"),
  HOLDER_GONE: refused("the run that held the deploy stopped renewing its lock"),
  KUBERNETES_CONFLICT: refused("another writer kept changing a Kubernetes object under cutover"),
  LOCK_LOST: refused("this run lost the deploy's lock to another run"),
  MIGRATION_CHANGED: refused("an applied migration's file was edited afterwards"),
  MIGRATION_FILE_MISSING: refused("an applied migration's file is gone"),
  MIGRATION_LOCK_BUSY: refused("another migration runner holds the migration lock"),
  MIGRATION_LOCK_TIMEOUT: refused("a migration could not get a table lock within lock_timeout"),
  MIGRATION_OUT_OF_ORDER: refused("a new expand migration sorts before one already applied"),
  NO_DEPLOY: refused("no deploy is in progress"),
  NO_DOWN_PART: refused("`migrate down` reached a migration without a down part"),
  NOT_ASKABLE: refused("the holder of the deploy does not take requests"),
  NOT_PAUSED: refused("no deploy is paused (for promote, or to take over)"),
  NOTHING_TO_ROLL_BACK: refused("the other colour has never run a version"),
  NOTHING_TO_SWITCH: refused("no colour has a version to switch to yet"),
  REGION_NOT_READY: refused("a fleet deploy found a region that does not answer or has a deploy of its own"),
  SCHEMA_OUT_OF_RANGE: refused("the database lacks the schema range a service version needs"),
  SECRET_NOT_OURS: refused("a Secret cutover would write exists and was not made by cutover"),
  STATE_NOT_HELD: refused("this run does not hold the deploy, so it writes no state for it"),
  STATE_STALE: refused("another cutover recorded deploys since this one read the state"),
  SYNC_GUARDRAIL: refused("the databases cannot be kept in sync by logical replication as they are"),
  SYNC_NOT_STREAMING: refused(
    "the other colour's database does not follow the live one, so traffic may not move to it",
  ),
  ENDING_UNRECORDED: refused(
    "the state holds an ended deploy the history may not have yet: record it, then claim",
  ),

  // Something cutover depends on is not there or does not answer.
  ADMIN_CERTIFICATE: unavailable("a region's admin API answered with a certificate cutover cannot verify"),
  DAEMON_NOT_RUNNING: unavailable("the cutover daemon is not running or does not answer"),
  DATABASE_CONNECTION_LOST: unavailable("the connection to the database was lost during a migration"),
  DATABASE_UNREACHABLE: unavailable("the database could not be reached"),
  FRONT_UNREACHABLE: unavailable("the global front's admin API could not be reached"),
  HAPROXY_SOCKET: unavailable("HAProxy's admin socket could not be reached or did not answer"),
  KUBERNETES_API: unavailable("the Kubernetes API could not be reached, or refused a call"),
  NO_DASHBOARD: unavailable("the daemon does not serve the dashboard"),
  ROUTER_NOT_LISTENING: unavailable("the router is not listening yet"),
  SERVICE_MISSING: unavailable("the active Kubernetes Service does not exist; apply the rendered manifests"),
  SHUTDOWN: unavailable("the cutover daemon was shut down"),
  TRAFFIC_MANAGER_API: unavailable(
    "Azure Resource Manager could not be reached, or refused a Traffic Manager call",
  ),
  TRAFFIC_MANAGER_MISSING: unavailable(
    "the Traffic Manager profile, or a region's endpoint in it, does not exist; render and deploy it",
  ),

  // Failed.
  ABANDONED: failed("the deploy's run stopped; the deploy was closed by `cutover abort`"),
  ABORTED: failed("the deploy was aborted by `cutover abort`"),
  ANALYSIS_FAILED: failed("the analysis judged the new version worse"),
  BAD_DEPLOY_ID: failed("a deploy id that cannot name a Kubernetes ConfigMap"),
  DAEMON_FAILED: failed("the cutover daemon did not start, or exited"),
  DATAPLANE_FAILED: failed("the data plane process did not start, or stopped answering"),
  FRONT_NOT_CONFIRMED: failed(
    "the global front did not confirm a region drained or restored before the wait was stopped",
  ),
  HAPROXY_COMMAND: failed("HAProxy refused a runtime API command"),
  HAPROXY_START: failed("HAProxy did not start"),
  INTERRUPTED: failed("cutover got SIGINT or SIGTERM"),
  ROUTER_WORKER_FAILED: failed("a router worker process (router.workers) did not start, or failed a call"),
  JOURNAL_CORRUPT: failed("a ConfigMap does not hold a readable deploy journal"),
  JOURNAL_TOO_LARGE: failed("a deploy journal does not fit a ConfigMap"),
  MIGRATION_FAILED: failed("a migration's statement failed"),
  NO_ANSWER: failed("the deploy ended, or its holder went away, without an answer"),
  NO_COMMAND: failed("start.command is needed to run replicas on this machine"),
  PREVIEW_NOT_SERVING: failed("the preview Service did not answer from the new colour only"),
  REPLICAS_NOT_READY: failed("replicas of a colour did not become ready"),
  ROLLOUT_FAILED: failed("the Kubernetes rollout of a colour failed or did not finish"),
  SMOKE_FAILED: failed("a smoke check failed"),
  STATE_CORRUPT: failed("the deploy state or history cannot be read"),
  STATE_NOT_WRITTEN: failed("the deploy state could not be written before the switch"),
  RUNNER_STILL_RUNNING: failed("a fleet deploy's runner was asked to halt and has not ended it in time"),
  STOP_TIMEOUT: failed("the daemon is still running after `cutover down`"),
  SWITCHOVER_TIMEOUT: failed("the database switchover did not finish within database.switchoverTimeout"),
  SYNC_COPY_FAILED: failed("the initial copy of the live database to the other colour's did not finish"),
  SWITCH_NOT_CONFIRMED: failed(
    "after the switch the active Service did not answer with the new version only",
  ),
  UNKNOWN_ANSWER: failed("the daemon answered with an error code this cutover does not know"),
  UNSAFE_MIGRATION: failed("the migration linter found an unsafe migration"),

  // The admin API's answers about the request itself.
  BAD_JSON: request(400, "the request body is not a JSON object"),
  BAD_TIMEOUT: request(400, "the request's timeout is not a duration within the allowed range"),
  BAD_VERSION: request(400, "the request names no valid version"),
  BODY_TOO_LARGE: request(413, "the request body is over the limit"),
  INTERNAL: request(500, "an unexpected error in the daemon"),
  METHOD_NOT_ALLOWED: request(405, "the endpoint does not take that method"),
  NOT_FOUND: request(404, "no such endpoint or file"),
  UNAUTHORISED: request(401, "the request's token is missing or wrong"),
  UNKNOWN_REGION: request(404, "the global front has no region of that name"),
} as const satisfies Record<string, ErrorSpec>;

/** Every code in ERRORS: comparing `error.code` to a string that is not one fails to compile. */
export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERRORS, value);
}

export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  /** The admin API's status for this error. */
  readonly httpStatus: number;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "CutoverError";
    this.code = code;
    this.exitCode = ERRORS[code].exitCode;
    this.httpStatus = ERRORS[code].httpStatus;
  }

  /** One line for a history entry or a status line; the message may go on with details. */
  get summary(): string {
    return this.message.split("\n")[0] ?? this.message;
  }
}

/** Whether `error` is a CutoverError with `code` (a typed code: a typo does not compile). */
export function hasCode(error: unknown, code: ErrorCode): error is CutoverError {
  return error instanceof CutoverError && error.code === code;
}

/** The CLI's exit code for anything thrown: from ERRORS for a CutoverError, 1 otherwise. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CutoverError ? error.exitCode : EXIT_FAILED;
}

/** The admin API's HTTP status for anything thrown: from ERRORS for a CutoverError, 500 otherwise. */
export function httpStatusOf(error: unknown): number {
  return error instanceof CutoverError ? error.httpStatus : ERRORS.INTERNAL.httpStatus;
}

/** cutover.yaml or a CLI argument is wrong. `problems` holds one line per problem. */
export class ConfigError extends CutoverError {
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super("CONFIG_INVALID", `${file} is not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
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
