import { readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Colour } from "../src/colour.js";
import type { BenchProcesses } from "./bench-processes.js";
import type { WorkersTarget } from "./bench-results.js";
import type { BenchTarget } from "./bench-target.js";
import type { DemoUpstream } from "./demo-upstreams.js";
import type { BenchCertificate } from "./nginx-target.js";

/** When the router child said the pointer moved, on the monotonic clock all processes share. */
export interface SwitchAck {
  readonly colour: Colour;
  readonly hrtime: bigint;
}

/**
 * cutover's built-in router in a node process of its own (bench/serve-router.ts); its switch is the admin
 * command "switch <colour>" on its stdin, answered once the pointer has moved.
 *
 * With `workers` > 1 ("cutover-<workers>w"): serve-router --workers <workers>, router.workers' node:cluster
 * processes sharing the listening port; the primary announces every pid ({"port": P, "pids": [...]}) and
 * answers the switch once every worker has switched. The caller stops that target itself when it is done
 * with it (BenchProcesses stops it at the end otherwise).
 */
export function startCutoverTarget(
  processes: BenchProcesses,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  logDir: string,
  onSwitched: (ack: SwitchAck) => void,
  tls?: BenchCertificate | null,
  workers?: 1,
): Promise<BenchTarget>;
export function startCutoverTarget(
  processes: BenchProcesses,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  logDir: string,
  onSwitched: (ack: SwitchAck) => void,
  tls: null,
  workers: number,
): Promise<WorkersTarget>;
export async function startCutoverTarget(
  processes: BenchProcesses,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  logDir: string,
  onSwitched: (ack: SwitchAck) => void,
  tls: BenchCertificate | null = null,
  workers = 1,
): Promise<BenchTarget | WorkersTarget> {
  const script = fileURLToPath(new URL("./serve-router.js", import.meta.url));
  const tlsArgs = tls ? ["--tls-cert", tls.cert, "--tls-key", tls.key] : [];
  const workersArgs = workers > 1 ? ["--workers", String(workers)] : [];
  const name =
    workers > 1 ? `cutover router (${workers} workers)` : tls ? "cutover router (tls)" : "cutover router";
  const log =
    workers > 1 ? `cutover-router-${workers}w.log` : tls ? "cutover-router-tls.log" : "cutover-router.log";
  const child = processes.spawn(
    name,
    process.execPath,
    [
      script,
      "--blue",
      String(upstreams.blue.port),
      "--green",
      String(upstreams.green.port),
      ...tlsArgs,
      ...workersArgs,
    ],
    { logFile: join(logDir, log), stdin: true, announces: true },
  );
  const announced = await child.announced;
  const port = Number(announced.port);
  // Every process of the router (primary and workers) when it names them; else the child alone.
  const pids = [...new Set([child.pid, ...announcedPids(announced.pids)])];
  const waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  let buffered = "";
  child.child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const parsed = safeJson(line);
      if (typeof parsed?.error === "string") {
        waiting.shift()?.reject(new Error(`${name}: ${parsed.error}`));
        continue;
      }
      if (typeof parsed?.switched !== "string" || typeof parsed.hrtime !== "string") continue;
      const ack = { colour: parsed.switched as Colour, hrtime: BigInt(parsed.hrtime) };
      onSwitched(ack);
      waiting.shift()?.resolve();
    }
  });
  const switchTo = (colour: Colour) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.child.stdin?.write(`switch ${colour}\n`);
    });
  if (workers > 1) {
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> =>
      (stopping ??= child.stop().then(() => reap(pids.filter((pid) => pid !== child.pid))));
    processes.onStop(stop);
    return {
      name: `cutover-${workers}w`,
      label: `cutover built-in router (node ${process.version}, router.workers: ${workers})`,
      url: `http://127.0.0.1:${port}/`,
      pids: () => pids,
      switchMethod: `admin command "switch <colour>" on the primary router process's stdin, answered once all ${workers} workers have switched`,
      switchTo,
      stop,
    };
  }
  if (tls)
    return {
      name: "cutover-tls",
      label: `cutover built-in router (node ${process.version}, one process), HTTPS (router.tls)`,
      url: `https://127.0.0.1:${port}/`,
      pids: () => pids,
      switchMethod: "",
      switchTo: null,
    };
  return {
    name: "cutover",
    label: `cutover built-in router (node ${process.version}, one process)`,
    url: `http://127.0.0.1:${port}/`,
    pids: () => pids,
    switchMethod:
      'admin command "switch <colour>" on the router process\'s stdin, taken by its admin worker thread',
    switchTo,
  };
}

/** The "pids" of serve-router's announcement, when it has them. */
function announcedPids(value: unknown): number[] {
  if (!Array.isArray(value)) return [];
  return value.filter((pid): pid is number => Number.isInteger(pid) && pid > 0);
}

const NODE = realpathSync(process.execPath);

/** Whether `pid` is still a live node process (a router worker the bench started). */
function isLiveNode(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === NODE;
  } catch {
    return false; // gone, or a zombie
  }
}

/**
 * Once the primary has exited, its workers exit too (their IPC channel closed); any still running after
 * 3 s is killed by its pid, so that the bench never leaves a router process behind.
 */
async function reap(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 3_000;
  let alive = pids.filter(isLiveNode);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(50);
    alive = alive.filter(isLiveNode);
  }
  for (const pid of alive) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

function safeJson(line: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
