import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { Argument, type Command } from "commander";
import type { LoadedConfig } from "../../config/load.js";
import { DAEMON_LOG } from "../../daemon/state-files.js";
import { DATAPLANE_LOG } from "../../dataplane/protocol.js";
import { CutoverError } from "../../errors.js";
import { readRecorded } from "./offline-state.js";

export interface LogsOptions {
  readonly follow?: boolean;
  readonly replica?: number;
  readonly lines?: number;
}

const SOURCES = ["blue", "green", "daemon", "dataplane"] as const;

export function registerLogsCommand(
  program: Command,
  context: { readonly config: () => LoadedConfig },
): void {
  program
    .command("logs")
    .description(
      "print a replica's log (default: the live colour's first), the daemon's or the data plane's; works with the daemon down",
    )
    .addArgument(new Argument("[source]", "whose log").choices(SOURCES))
    .option("-f, --follow", "keep printing lines as they are written (through rotations), until Ctrl-C")
    .option("--replica <n>", "which replica of the colour (0, 1, ...)", (v) => wholeNumber(v, "--replica"), 0)
    .option("--lines <n>", "how many of the last lines to print first", (v) => wholeNumber(v, "--lines"), 50)
    .action((source: string | undefined, options: LogsOptions) =>
      showLogs(context.config(), source, options),
    );
}

function wholeNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CutoverError("BAD_ARGUMENT", `${flag} expects a whole number >= 0, got "${value}"`);
  return n;
}
/** How often `logs -f` looks for new lines (and for a rotation). */
const FOLLOW_POLL_MS = 200;
const BLOCK = 64 * 1024;

/**
 * `cutover logs [blue|green|daemon|dataplane]`: the last lines of a replica's log (.cutover/logs/<colour>-<n>.log),
 * of .cutover/daemon.log or of .cutover/dataplane.log (the router's, in the data plane process), read from the files: the daemon need not run. -f follows the file as `tail -F` does,
 * through rotations. Without a source: the live colour recorded in .cutover/ (blue before the first deploy).
 */
export async function showLogs(
  loaded: LoadedConfig,
  source: string | undefined,
  options: LogsOptions,
): Promise<void> {
  if (loaded.config.platform === "kubernetes") {
    const colour = source === "green" ? "green" : "blue";
    throw new CutoverError(
      "BAD_ARGUMENT",
      `on Kubernetes the replicas' logs are the pods': run \`kubectl logs -l app=${loaded.config.service},version=${colour} --namespace ${loaded.config.kubernetes?.namespace ?? "default"}\``,
    );
  }
  const path = await logPath(loaded, source, options.replica ?? 0);
  const lines = options.lines ?? 50;
  // Where following starts is taken before the last lines are read: a line written meanwhile is printed
  // once, by follow(), never lost between the two.
  const end = statOrNull(path)?.size ?? 0;
  const previous = lines > 0 ? tailLines(path, lines, end) : [];
  if (previous.length > 0) process.stdout.write(`${previous.join("\n")}\n`);
  if (options.follow) await follow(path, end);
}

async function logPath(loaded: LoadedConfig, source: string | undefined, replica: number): Promise<string> {
  if (source !== undefined && !(SOURCES as readonly string[]).includes(source))
    throw new CutoverError("BAD_ARGUMENT", `expected blue, green, daemon or dataplane, got "${source}"`);
  if (source === "daemon") return join(loaded.stateDir, DAEMON_LOG);
  if (source === "dataplane") return join(loaded.stateDir, DATAPLANE_LOG);
  const colour = source ?? (await readRecorded(loaded))?.state?.active ?? "blue";
  const dir = join(loaded.stateDir, "logs");
  const path = join(dir, `${colour}-${replica}.log`);
  if (!existsSync(path)) {
    const there = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".log")) : [];
    throw new CutoverError(
      "NOT_FOUND",
      `no log at ${path}${there.length ? ` (there are: ${there.sort().join(", ")})` : `; ${colour} has not run yet`}`,
    );
  }
  return path;
}

/** The last `count` lines of `path`, taking earlier ones from `path.1` (the file rotated before it) if needed. */
export function tailLines(path: string, count: number, end?: number): string[] {
  const lines = lastLinesOf(path, count, end);
  if (lines.length < count && existsSync(`${path}.1`))
    return [...lastLinesOf(`${path}.1`, count - lines.length), ...lines];
  return lines;
}

/** The last `count` lines of `path`, up to byte `end` (default: its end now). */
function lastLinesOf(path: string, count: number, end?: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return [];
  }
  try {
    const size = Math.min(end ?? Number.POSITIVE_INFINITY, fstatSync(fd).size);
    let start = size;
    let text = "";
    let chunks: Buffer[] = [];
    // Read back block by block until there are more than `count` line ends (or the file's start).
    let newlines = 0;
    while (start > 0 && newlines <= count) {
      const length = Math.min(BLOCK, start);
      start -= length;
      const block = Buffer.alloc(length);
      readSync(fd, block, 0, length, start);
      for (const byte of block) if (byte === 10) newlines++;
      chunks = [block, ...chunks];
    }
    text = Buffer.concat(chunks).toString("utf8");
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    if (start > 0) lines.shift(); // a line cut by the first block read
    return lines.slice(-count);
  } finally {
    closeSync(fd);
  }
}

/** Prints what is appended to `path` after byte `from`, until the process is stopped; reopens it after a rotation. */
async function follow(path: string, from: number): Promise<never> {
  let fd = openSync(path, "r");
  let position = Math.min(from, fstatSync(fd).size);
  const buffer = Buffer.alloc(BLOCK);
  const drain = () => {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read <= 0) return;
      position += read;
      process.stdout.write(Buffer.from(buffer.subarray(0, read)));
    }
  };
  for (;;) {
    drain();
    const now = statOrNull(path);
    const current = fstatSync(fd);
    if (now && (now.ino !== current.ino || now.size < position)) {
      // Rotated (renamed away: what was written to it before is read above) or truncated: start on the new file.
      drain();
      closeSync(fd);
      fd = openSync(path, "r");
      position = 0;
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

function statOrNull(path: string): { ino: number; size: number } | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
