import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { LoadedConfig } from "../../config/load.js";
import { AdminClient } from "../../control/admin-client.js";
import type { Daemon } from "../../daemon/daemon.js";
import { DAEMON_LOG, isProcessAlive, readDaemonInfo } from "../../daemon/state-files.js";
import { isFinal } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { CutoverError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { type LogRotation, RotatingLog, rotateIfFull } from "../../process/rotating-log.js";
import { redactSecrets } from "../../secrets.js";

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));
/** Set by `cutover up` for the daemon it starts: the daemon then writes daemon.log itself, rotated by size. */
const LOG_FILE_ENV = "CUTOVER_DAEMON_LOG_FILE";

const rotationOf = (loaded: LoadedConfig): LogRotation => ({
  maxBytes: loaded.config.logs.maxSize,
  keep: loaded.config.logs.keep,
});

/**
 * The daemon's logger: daemon.log through a writer that rotates it (when started by `cutover up`; anything
 * else the process prints goes there too), else stdout, pretty on a terminal.
 */
function daemonLogger(loaded: LoadedConfig) {
  const file = process.env[LOG_FILE_ENV];
  // Not for the replicas: they inherit this process's environment.
  delete process.env[LOG_FILE_ENV];
  if (!file) return createLogger({ pretty: Boolean(process.stdout.isTTY) });
  const log = new RotatingLog(file, rotationOf(loaded));
  const to = {
    write(line: string): void {
      try {
        log.write(redactSecrets(line));
      } catch {
        // A full disk must not take the daemon (and the router with it) down: the line is lost.
      }
    },
  };
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      to.write(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
  }
  return createLogger({ to });
}

/** Runs the daemon in this process until SIGTERM (it leaves), SIGINT or `cutover down` (everything stops). */
export async function runDaemonInForeground(loaded: LoadedConfig): Promise<void> {
  // Loaded here, not at the top: every other command would pay for the router, analysis and reports.
  const { Daemon } = await import("../../daemon/daemon.js");
  const logger = daemonLogger(loaded);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ loaded, logger });
  } catch (error) {
    logger.error({ err: (error as Error).message }, "the daemon could not start");
    throw error;
  }
  // SIGTERM (systemd's stop and restart, `kill`, an upgrade's handover): this daemon leaves, and the data
  // plane process serves on for the next one. Ctrl-C in a terminal, like `cutover down`, stops everything.
  process.once("SIGTERM", () => void daemon.leave());
  process.once("SIGINT", () => void daemon.stop());
  await daemon.stopped;
}

/** Starts the daemon detached, with its output in .cutover/daemon.log; resolves when it serves. */
export async function startDaemonInBackground(
  loaded: LoadedConfig,
): Promise<{ pid: number; status: ServiceStatus }> {
  mkdirSync(loaded.stateDir, { recursive: true, mode: 0o700 });
  const logPath = join(loaded.stateDir, DAEMON_LOG);
  // The daemon rotates daemon.log as it writes; its stdout and stderr (what Node itself prints if it
  // crashes) are appended to the same file, so it starts below the limit for a start-up failure to be read there.
  rotateIfFull(logPath, rotationOf(loaded));
  const log = openSync(logPath, "a");
  const child = spawn(process.execPath, [MAIN, "daemon", "--config", loaded.file], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, CI: undefined, [LOG_FILE_ENV]: logPath },
  });
  closeSync(log);
  let exited: string | null = null;
  child.once("exit", (code, signal) => {
    exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  });
  child.unref();
  const deadline = Date.now() + loaded.config.deploy.readyTimeout + 15_000;
  while (Date.now() < deadline) {
    if (exited) throw daemonFailed(`the daemon ${exited}`, logPath);
    const status = await readyStatus(loaded, child.pid ?? -1);
    if (status) return { pid: child.pid ?? -1, status };
    await sleep(100);
  }
  throw daemonFailed("the daemon did not become ready in time (it is still running; see the log)", logPath);
}

async function readyStatus(loaded: LoadedConfig, pid: number): Promise<ServiceStatus | null> {
  const info = readDaemonInfo(loaded.stateDir);
  if (!info || info.pid !== pid || info.ready === false) return null;
  try {
    const status = await AdminClient.forConfig(loaded).get<ServiceStatus>("/status");
    const active = status.colours[status.active];
    return active.replicas.length > 0 && active.replicas.every((r) => r.ready) ? status : null;
  } catch {
    return null;
  }
}

function daemonFailed(what: string, logPath: string): CutoverError {
  const tail = readFileSync(logPath, "utf8").trim().split("\n").slice(-8).join("\n");
  return new CutoverError("DAEMON_FAILED", `${what}. Last lines of ${logPath}:\n${tail}`);
}

/** The pid of a live daemon for this state folder, or null. */
export function runningDaemonPid(loaded: LoadedConfig): number | null {
  const info = readDaemonInfo(loaded.stateDir);
  return info && isProcessAlive(info.pid) ? info.pid : null;
}

/** Waits until `pid` has exited; false at the deadline. */
async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(50);
  return !isProcessAlive(pid);
}

/**
 * `cutover down`: the daemon stops both colours, the router and the data plane process; with no daemon
 * alive, the data plane process it left is asked directly. Resolves once every process has exited.
 */
export async function stopEverything(
  loaded: LoadedConfig,
): Promise<{ daemon: number | null; dataPlane: number | null }> {
  const { readDataPlaneInfo } = await import("../../dataplane/dataplane-files.js");
  const { stopDataPlane } = await import("../../dataplane/dataplane-launch.js");
  const plane = readDataPlaneInfo(loaded.stateDir);
  const pid = runningDaemonPid(loaded);
  const unit = pid === null ? undefined : readDaemonInfo(loaded.stateDir)?.systemdUnit;
  if (unit)
    throw new CutoverError(
      "DAEMON_UNDER_SYSTEMD",
      `the daemon (pid ${pid}) runs under systemd as ${unit}, which would start it again: \`sudo systemctl stop ${unit}\` first (the service keeps serving), then \`cutover down\``,
    );
  if (pid !== null) {
    await AdminClient.forConfig(loaded).post("/shutdown");
    // Until the process has exited, not only until it removed daemon.json (its last step before exiting).
    if (!(await exited(pid, 60_000)))
      throw new CutoverError("STOP_TIMEOUT", `the daemon (pid ${pid}) is still running`);
    if (plane && (await exited(plane.pid, 10_000))) return { daemon: pid, dataPlane: plane.pid };
  }
  // No daemon, or one that died before its data plane stopped.
  return { daemon: pid, dataPlane: await stopDataPlane(loaded.stateDir) };
}

/**
 * `cutover up` while a daemon runs: a daemon of another cutover (an upgrade), or any with --replace, is
 * asked to leave (SIGTERM: the data plane process and the replicas go on), and a new one started here takes
 * them over. Null when there is nothing to do (the same cutover, no --replace). Refused while a deploy runs.
 */
export async function handOver(
  loaded: LoadedConfig,
  pid: number,
  replace: boolean,
): Promise<{ pid: number; from: string; status: ServiceStatus } | null> {
  const { cutoverBuild } = await import("../../build.js");
  const running = readDaemonInfo(loaded.stateDir);
  const from = running?.build ?? "a cutover that does not say its build";
  if (!replace && from === cutoverBuild().id) return null;
  if (running?.systemdUnit)
    throw new CutoverError(
      "ALREADY_RUNNING",
      `the daemon (pid ${pid}) runs under systemd as ${running.systemdUnit}: \`sudo systemctl restart ${running.systemdUnit}\` hands over to the cutover its unit runs (traffic goes on)`,
    );
  if (running?.build === undefined)
    throw new CutoverError(
      "ALREADY_RUNNING",
      `the daemon (pid ${pid}) is from a cutover without a data plane process: its router and replicas stop with it, so no handover can keep traffic going. Run \`cutover down && cutover up\` (a short outage) to move to this cutover`,
    );
  const status = await AdminClient.forConfig(loaded).get<ServiceStatus>("/status");
  if (status.deploy !== null && !isFinal(status.deploy.phase))
    throw new CutoverError(
      "HANDOVER_DURING_DEPLOY",
      `the daemon (pid ${pid}) runs ${status.deploy.kind} ${status.deploy.id}; wait for it to end (\`cutover wait\`) or \`cutover abort\` it, then run \`cutover up\` again`,
    );
  process.kill(pid, "SIGTERM");
  if (!(await exited(pid, 60_000)))
    throw new CutoverError("STOP_TIMEOUT", `the daemon (pid ${pid}) did not leave within 60 s of SIGTERM`);
  const started = await startDaemonInBackground(loaded);
  return { ...started, from };
}
