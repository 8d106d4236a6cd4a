import type { Command } from "commander";
import type { LoadedConfig } from "../../config/load.js";
import type { ControlPlane } from "../../control/control-plane.js";
import { formatDuration, parseDuration } from "../../duration.js";
import { type DeployRecord, isFinal, waitsForPerson } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { CutoverError } from "../../errors.js";
import type { Output } from "../output.js";
import { summary } from "../render.js";
import { statusFeed } from "./status-feed.js";

export const EXIT_TIMEOUT = 2;

export interface WaitCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
  readonly withControl: <T>(action: (control: ControlPlane) => Promise<T>) => Promise<T>;
}

export function registerWaitCommand(program: Command, context: WaitCommandContext): void {
  program
    .command("wait")
    .description(
      "wait for the deploy in progress (or the last one) to end: exit 0 if Healthy, 1 if aborted, 2 on timeout",
    )
    .option(
      "--timeout <duration>",
      'give up after this long ("90s", "10m"); default: wait as long as it takes',
      (v) => timeoutOf(v),
    )
    .action(async (options: { timeout?: number }) => {
      const loaded = context.config();
      process.exitCode = await context.withControl((control) =>
        waitForDeploy(loaded, control, context.output(), options.timeout),
      );
    });
}

function timeoutOf(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new CutoverError(
      "BAD_ARGUMENT",
      `--timeout expects a duration such as "90s" or "10m", got "${value}"`,
    );
  return ms;
}

/**
 * `cutover wait`: waits for the deploy in progress (or the last one, if none runs) to end. Exit 0 when it
 * ended Healthy, 1 when it was aborted or failed (or the daemon went away), 2 when `timeoutMs` passed first.
 * A deploy paused for a person is waited for all the same (said once).
 */
export async function waitForDeploy(
  loaded: LoadedConfig,
  control: ControlPlane,
  out: Output,
  timeoutMs: number | undefined,
): Promise<number> {
  const abort = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, timeoutMs);
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let target: DeployRecord | null = null;
  let saidPaused = false;
  const note = (record: DeployRecord) => {
    if (out.json || saidPaused || !waitsForPerson(record)) return;
    saidPaused = true;
    process.stderr.write(
      `${record.id} ${record.kind} ${record.version} is paused${record.reason ? ` (${record.reason})` : ""}; waiting for \`cutover promote\` (or \`cutover abort\`)\n`,
    );
  };
  try {
    for await (const event of statusFeed(loaded, control, abort.signal)) {
      const record: DeployRecord | null =
        event.type === "status" ? pick(event.status, target) : event.type === "deploy" ? event.record : null;
      if (target === null) {
        if (event.type !== "status") continue;
        target = record;
        if (target === null) {
          out.result({ waitedFor: null }, () => "no deploy yet: nothing to wait for");
          return 0;
        }
        if (!isFinal(target.phase) && !out.json)
          process.stderr.write(
            `waiting for ${target.id} ${target.kind} ${target.version} (${target.phase})\n`,
          );
      }
      if (record === null || record.id !== target.id) continue;
      target = record;
      if (isFinal(record.phase)) {
        const ended = record;
        out.result(ended, () => summary(ended));
        return ended.phase === "Healthy" ? 0 : 1;
      }
      note(record);
    }
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  if (timedOut && target) {
    const still = target;
    const waiting = waitsForPerson(still) ? ", waiting for `cutover promote`" : "";
    out.result({ ...still, timedOut: true }, () => summary(still));
    process.stderr.write(
      `cutover: timed out after ${formatDuration(timeoutMs ?? 0)}: ${still.id} is still ${still.phase}${waiting}\n`,
    );
    return EXIT_TIMEOUT;
  }
  if (timedOut) {
    process.stderr.write(
      `cutover: timed out after ${formatDuration(timeoutMs ?? 0)} before the daemon answered\n`,
    );
    return EXIT_TIMEOUT;
  }
  if (abort.signal.aborted) {
    process.stderr.write("cutover: stopped waiting\n");
    return 1;
  }
  process.stderr.write(
    `cutover: the daemon went away before ${target?.id ?? "the deploy"} ended; see \`cutover status\`\n`,
  );
  return 1;
}

/** The record of `target` in a status (running, or just ended), or the deploy to wait for when none was chosen yet. */
function pick(status: ServiceStatus, target: DeployRecord | null): DeployRecord | null {
  if (target === null) return status.deploy ?? status.lastDeploy;
  if (status.deploy?.id === target.id) return status.deploy;
  if (status.lastDeploy?.id === target.id) return status.lastDeploy;
  return null;
}
