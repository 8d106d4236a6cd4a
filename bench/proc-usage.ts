import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** CPU time (user + system, all threads) a process has used so far, in seconds; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in bytes (VmRSS); 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** `pid` and its descendants (nginx: the master and its workers). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i] as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8").trim();
        if (children !== "") tree.push(...children.split(" ").map(Number));
      } catch {
        // the task ended
      }
    }
  }
  return tree;
}

/** CPU seconds and peak RSS of a set of processes while `work` runs (RSS sampled every 100 ms). */
export async function measureUsage<T>(
  pids: () => readonly number[],
  work: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: number; peakRssBytes: number }> {
  const before = new Map(pids().map((pid) => [pid, cpuSeconds(pid)]));
  let peak = 0;
  const sample = () => {
    peak = Math.max(
      peak,
      pids().reduce((sum, pid) => sum + rssBytes(pid), 0),
    );
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    const result = await work();
    sample();
    const used = pids().reduce((sum, pid) => sum + cpuSeconds(pid) - (before.get(pid) ?? 0), 0);
    return { result, cpuSeconds: used, peakRssBytes: peak };
  } finally {
    clearInterval(timer);
  }
}
