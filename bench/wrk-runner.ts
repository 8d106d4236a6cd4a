import { execFile } from "node:child_process";

export interface WrkOptions {
  readonly wrk: string;
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly seconds: number;
}

/** What one wrk run measured (closed loop: each connection sends its next request when the last answered). */
export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  readonly errors: number;
}

/** Runs `wrk --latency` and parses its report. */
export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, "--latency", o.url];
  return new Promise((resolve, reject) => {
    execFile(o.wrk, args, { encoding: "utf8", timeout: (o.seconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`wrk ${args.join(" ")} failed: ${stderr || error.message}`));
      try {
        resolve(parseWrk(stdout));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) throw new Error(`cannot read the duration "${text}" in wrk's report`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] ?? 1);
}

export function parseWrk(report: string): WrkResult {
  const find = (pattern: RegExp, what: string): RegExpExecArray => {
    const match = pattern.exec(report);
    if (!match) throw new Error(`wrk's report has no ${what}:\n${report}`);
    return match;
  };
  const latency = find(/Latency\s+(\S+)\s+(\S+)\s+(\S+)/, "latency line");
  const total = find(/(\d+) requests in ([\d.]+)(\w+),/, "request count");
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  const errors =
    (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) +
    Number(non2xx?.[1] ?? 0);
  return {
    requests: Number(total[1]),
    seconds: durationMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(find(/Requests\/sec:\s+([\d.]+)/, "Requests/sec")[1]),
    p50Ms: durationMs(find(/^\s+50%\s+(\S+)/m, "50th percentile")[1] as string),
    p99Ms: durationMs(find(/^\s+99%\s+(\S+)/m, "99th percentile")[1] as string),
    maxMs: durationMs(latency[3] as string),
    errors,
  };
}
