import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly haproxy: string;
  readonly wrk: string;
  /** The 1-minute load average when the bench started: other work on the machine skews the figures. */
  readonly loadAverage: number;
}

/** What the numbers were measured on: CPUs, memory, kernel and each program's version. */
export function machineInfo(paths: Readonly<Record<string, string>>): MachineInfo {
  const nproc = Number(spawnSync("nproc", { encoding: "utf8" }).stdout.trim()) || cpus().length;
  return {
    nproc,
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    nginx: versionOf(paths.nginx, ["-v"], /nginx\/(\S+)/),
    haproxy: versionOf(paths.haproxy, ["-v"], /HAProxy version (\S+)/),
    wrk: versionOf(paths.wrk, ["-v"], /wrk (\S+)/),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match?.[1]) return match[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

function versionOf(binary: string | undefined, args: string[], pattern: RegExp): string {
  if (binary === undefined) return "not installed";
  const result = spawnSync(binary, args, { encoding: "utf8" });
  return pattern.exec(`${result.stdout}${result.stderr}`)?.[1] ?? "unknown";
}
