/**
 * Where a process's CPU went, by area, from `perf script` output (the table "Where a request's CPU goes"
 * in docs/BENCHMARKS.md). perf samples on-CPU time of every thread, kernel included, which V8's own
 * --cpu-prof cannot: its samples are wall-clock, so time spent descheduled inside a write() is charged to
 * that write. Each sample is charged to one area: GC when a V8 collector frame is on its stack; else a kernel
 * leaf to the system call it serves; else the nearest JavaScript frame's file (node run with --perf-basic-prof).
 *
 *   node --perf-basic-prof dist/bench/serve-router.js --blue P1 --green P2 &   # then load it with wrk
 *   perf record -e cpu-clock -F 1999 -g -p <pid> -- sleep 6
 *   perf script -F tid,ip,sym,dso > script.txt
 *   node dist/bench/cpu-areas.js script.txt
 */
import { readFileSync } from "node:fs";

interface Frame {
  readonly sym: string;
  readonly dso: string;
}

const GC =
  /Scavenge|Heap::|MarkCompact|Sweeper|ConcurrentMarking|GCTracer|Evacuat|IncrementalMarking|MinorMC|SemiSpace|NewSpace::/;

/** Areas of JavaScript frames, by the file their function is in; the first that matches wins. */
const JS_AREAS: ReadonlyArray<readonly [RegExp, string]> = [
  [/undici|wasm/, "undici (client to the replicas, its llhttp in wasm)"],
  [/duration-histogram|router-metrics/, "our metrics and histogram"],
  [/\/src\/router\//, "our exchange code (src/router)"],
  [/node:_http_outgoing/, "HTTP server: writing the response (_http_outgoing)"],
  [/node:_http_server|node:_http_common|node:_http_incoming/, "HTTP server: parsing, req/res objects"],
  [
    /node:net|stream_base_commons|internal\/streams|node:buffer|internal\/buffer/,
    "sockets and streams (JS side)",
  ],
  [/timers|task_queues|node:events|internal\/process/, "timers, ticks, events"],
];

function area(frames: readonly Frame[]): string {
  const leaf = frames[0] as Frame;
  const kernel = leaf.dso.includes("kernel");
  if (frames.some((f) => GC.test(f.sym))) return kernel ? "GC (kernel side: page faults)" : "GC (V8)";
  if (kernel) {
    const call = frames.find((f) => !f.dso.includes("kernel"))?.sym ?? "";
    if (/writev/.test(call)) return "kernel: writev (answers to the clients)";
    if (/write/.test(call)) return "kernel: write (requests to the replicas)";
    if (/read/.test(call)) return "kernel: read";
    if (/epoll|io_poll/.test(call)) return "kernel: epoll";
    return "kernel: other (faults, scheduler)";
  }
  for (const frame of frames) {
    if (/llhttp/.test(frame.sym)) return "HTTP server: parsing, req/res objects";
    for (const [pattern, name] of JS_AREAS) if (pattern.test(frame.sym)) return name;
  }
  return frames.some((f) => /uv_run|uv__/.test(f.sym)) ? "libuv and node's C++ glue" : "other native";
}

/** Samples per area, from the text of `perf script -F tid,ip,sym,dso`. */
export function cpuAreas(script: string): Map<string, number> {
  const areas = new Map<string, number>();
  for (const sample of script.split("\n\n")) {
    const frames = sample
      .split("\n")
      .slice(1)
      .map((line) => /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ sym: match[1] as string, dso: match[2] as string }));
    if (frames.length === 0) continue;
    const name = area(frames);
    areas.set(name, (areas.get(name) ?? 0) + 1);
  }
  return areas;
}

if (process.argv[1]?.endsWith("cpu-areas.js") && process.argv[2] !== undefined) {
  const areas = cpuAreas(readFileSync(process.argv[2], "utf8"));
  const total = [...areas.values()].reduce((sum, count) => sum + count, 0);
  console.log(`${total} samples`);
  for (const [name, count] of [...areas].sort((a, b) => b[1] - a[1]))
    console.log(`${((100 * count) / total).toFixed(1).padStart(5)} %  ${name}`);
}
