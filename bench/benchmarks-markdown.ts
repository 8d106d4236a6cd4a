import type {
  BenchResults,
  SeveralCores,
  SwitchRound,
  SwitchSummary,
  ThroughputRound,
  ThroughputSummary,
  WorkersTargetName,
} from "./bench-results.js";
import { type ProxyName, type TargetName, TLS_TARGETS } from "./bench-target.js";
import { RSS_GROWTH_LIMIT, type RssSoak, WARMUP_SECONDS } from "./rss-soak.js";

const NAMES: Readonly<Record<TargetName, string>> = {
  direct: "no proxy",
  "node-floor": "Node's floor",
  cutover: "cutover",
  nginx: "nginx",
  haproxy: "HAProxy",
  "cutover-tls": "cutover HTTPS",
  "nginx-tls": "nginx HTTPS",
};

const n = (value: number | null, digits = 0): string =>
  value === null || !Number.isFinite(value)
    ? "-"
    : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : "-");

/**
 * docs/BENCHMARKS.md from one run's results; `profile` is the hand-measured section on where a request's CPU
 * goes (bench/cpu-profile.md), copied in as it is.
 */
export function renderBenchmarks(r: BenchResults, chartFile: string, profile = ""): string {
  const t = Object.fromEntries(r.throughput.summary.map((s) => [s.target, s])) as Record<
    TargetName,
    ThroughputSummary
  >;
  const sw = Object.fromEntries(r.switches.summary.map((s) => [s.proxy, s])) as Record<
    ProxyName,
    SwitchSummary
  >;
  const { cutover, nginx, haproxy } = t;
  const tlsCutover = t["cutover-tls"];
  const tlsNginx = t["nginx-tls"];
  const isTls = (name: TargetName) => (TLS_TARGETS as readonly string[]).includes(name);
  const plain = r.throughput.summary.filter((x) => !isTls(x.target));
  const s = r.settings;
  return `# Benchmarks: cutover's router against nginx and HAProxy

Written by \`npm run bench\` (bench/main.ts) on ${r.at.slice(0, 10)}, one run of ${r.durationSeconds} s on
${r.machine.nproc} CPUs (${r.machine.cpuModel}). Every figure below comes from that one run; run it again
on your machine rather than comparing with figures from another.${
    r.machine.loadAverage > r.machine.nproc / 2
      ? `\n\n> The machine was busy with other work when this run started (load average ${r.machine.loadAverage} on ${r.machine.nproc} CPUs):\n> absolute figures are low and noisy; the interleaved rounds keep the ratios comparable.`
      : ""
  }

**cutover's built-in router: ${ratio(cutover.rps, nginx.rps)} nginx's throughput and ${ratio(cutover.rps, haproxy.rps)} HAProxy's;
p99 latency ${ratio(cutover.p99Ms, nginx.p99Ms)} nginx's and ${ratio(cutover.p99Ms, haproxy.p99Ms)} HAProxy's;
${ratio(cutover.cpuUsPerRequest, nginx.cpuUsPerRequest)} nginx's CPU per request.**
${goalsParagraph(cutover, nginx, t["node-floor"])}${severalCoresHeadline(r.severalCores ?? null, cutover)}

![Throughput, p99 latency and CPU per request of each proxy](${chartFile})

## Throughput and latency

GET / of the demo app through each proxy, ${s.connections} keep-alive connections, wrk with ${s.wrkThreads} thread,
${s.seconds} s per round, median of ${s.rounds} rounds (errors summed).

| | ${plain.map((x) => NAMES[x.target]).join(" | ")} |
| --- | ${plain.map(() => "---:").join(" | ")} |
| requests/s | ${plain.map((x) => n(x.rps)).join(" | ")} |
| p50 latency, ms | ${plain.map((x) => n(x.p50Ms, 2)).join(" | ")} |
| p99 latency, ms | ${plain.map((x) => n(x.p99Ms, 2)).join(" | ")} |
| max latency, ms | ${plain.map((x) => n(x.maxMs, 1)).join(" | ")} |
| CPU per request, µs | ${plain.map((x) => n(x.cpuUsPerRequest, 1)).join(" | ")} |
| peak RSS, MiB | ${plain.map((x) => n(x.peakRssMiB, 1)).join(" | ")} |
| errors | ${plain.map((x) => n(x.errors)).join(" | ")} |
| throughput / nginx | ${plain.map((x) => ratio(x.rps, nginx.rps)).join(" | ")} |
| throughput / HAProxy | ${plain.map((x) => ratio(x.rps, haproxy.rps)).join(" | ")} |
| p99 / nginx | ${plain.map((x) => ratio(x.p99Ms, nginx.p99Ms)).join(" | ")} |
| p99 / HAProxy | ${plain.map((x) => ratio(x.p99Ms, haproxy.p99Ms)).join(" | ")} |

CPU and RSS are the proxy's own processes (nginx: master and worker; HAProxy: its one process; cutover:
the router's node process; Node's floor: its node process); in the "no proxy" column they are the demo app's, for scale.

${soakSection(r.rssSoak ?? null)}

## HTTPS

The same load over HTTPS (TLS 1.3, the same self-signed EC P-256 certificate; keep-alive, so the handshakes
are few): cutover with \`router.tls\` against nginx with \`ssl_protocols TLSv1.2 TLSv1.3\`.

${
  tlsCutover && tlsNginx
    ? `| | cutover HTTPS | nginx HTTPS | cutover / nginx |
| --- | ---: | ---: | ---: |
| requests/s | ${n(tlsCutover.rps)} | ${n(tlsNginx.rps)} | ${ratio(tlsCutover.rps, tlsNginx.rps)} |
| p50 latency, ms | ${n(tlsCutover.p50Ms, 2)} | ${n(tlsNginx.p50Ms, 2)} | ${ratio(tlsCutover.p50Ms, tlsNginx.p50Ms)} |
| p99 latency, ms | ${n(tlsCutover.p99Ms, 2)} | ${n(tlsNginx.p99Ms, 2)} | ${ratio(tlsCutover.p99Ms, tlsNginx.p99Ms)} |
| max latency, ms | ${n(tlsCutover.maxMs, 1)} | ${n(tlsNginx.maxMs, 1)} | ${ratio(tlsCutover.maxMs, tlsNginx.maxMs)} |
| CPU per request, µs | ${n(tlsCutover.cpuUsPerRequest, 1)} | ${n(tlsNginx.cpuUsPerRequest, 1)} | ${ratio(tlsCutover.cpuUsPerRequest, tlsNginx.cpuUsPerRequest)} |
| peak RSS, MiB | ${n(tlsCutover.peakRssMiB, 1)} | ${n(tlsNginx.peakRssMiB, 1)} | ${ratio(tlsCutover.peakRssMiB, tlsNginx.peakRssMiB)} |
| errors | ${n(tlsCutover.errors)} | ${n(tlsNginx.errors)} | |
| HTTPS / plain HTTP throughput, same proxy | ${ratio(tlsCutover.rps, cutover.rps)} | ${ratio(tlsNginx.rps, nginx.rps)} | |`
    : "Not measured in this run."
}

## The switch under load

${s.switchRounds} switches per proxy (alternating blue -> green and back), each under ${s.switchConnections} closed-loop keep-alive
connections: ${s.switchBeforeMs / 1000} s of load before the switch is issued, ${s.switchAfterMs / 1000} s after. Times are in ms from the
moment the switch was issued; medians over the switches, counts summed.

| | cutover (admin command) | HAProxy (runtime API) | nginx (reload) |
| --- | ---: | ---: | ---: |
${switchRow("failed requests, all switches", sw, (x) => `${x.errors} (${x.errorsPerSwitch.join(", ")})`)}
${switchRow("switch command returned, ms", sw, (x) => n(x.commandMs, 1))}
${switchRow("first answer from the new colour, ms", sw, (x) => n(x.firstNewMs, 1))}
${switchRow("last answer from the old colour, ms", sw, (x) => n(x.lastOldMs, 1))}
${switchRow("old-colour answers to requests sent after the first new-colour answer", sw, (x) => n(x.oldAfterFirstNew))}
${switchRow("pointer moved (router's own clock), ms", sw, (x) => n(x.appliedMs, 2))}

How each switches: ${r.targets
    .filter((x) => x.switchMethod !== "" && x.switchMethod !== "none" && !isTls(x.name))
    .map((x) => `${NAMES[x.name]}: ${x.switchMethod}`)
    .join("; ")}. A last old-colour answer
after the switch is a request that was already in flight (or, for nginx, served by an old worker on a
kept-alive connection); an old-colour answer to a request sent after the first new-colour answer had
arrived means the switch did not reach every connection at once.

${severalCoresSection(r, cutover, nginx)}
${profile === "" ? "" : `\n${profile.trim()}\n`}
## Machine

| | |
| --- | --- |
| CPUs (nproc) | ${r.machine.nproc} |
| CPU model | ${r.machine.cpuModel} |
| memory | ${r.machine.memoryGiB} GiB |
| kernel | ${r.machine.kernel} |
| Node.js | ${r.machine.node} |
| nginx | ${r.machine.nginx} |
| HAProxy | ${r.machine.haproxy} |
| wrk | ${r.machine.wrk} |
| 1-minute load average at the start | ${r.machine.loadAverage} |

${[
  ...r.targets.map((x) => `- **${NAMES[x.name]}**: ${x.label}`),
  ...(r.severalCores?.targets ?? []).map((x) => `- **${workersName(x.name)}**: ${x.label}`),
].join("\n")}

## Method

- Upstream: the demo app (dist/examples/demo-app/src/server.js) twice, blue and green (ENVIRONMENT set, so
  each answer names its colour in x-app-environment), one node process each, on loopback. Every proxy
  sends to the same two processes.
- Equivalent proxy settings: one nginx worker, one HAProxy thread, one cutover router process; keep-alive
  to the clients and to the upstream (nginx: \`keepalive 64\` per upstream, no request limit per connection;
  HAProxy: its default connection reuse); X-Forwarded-For and the x-cutover-colour header added by each;
  responses streamed (nginx: \`proxy_buffering off\`); no access log.
- Throughput and latency: wrk \`-t${s.wrkThreads} -c${s.connections} -d${s.seconds}s --latency\` (closed loop), after a 2 s warm-up of each target.
  Rounds are interleaved, and the order of the targets rotates from round to round.
- CPU per request: utime + stime of the proxy's processes from /proc/<pid>/stat, before and after the
  round, divided by the requests wrk counted. RSS: VmRSS from /proc/<pid>/status, sampled every 100 ms,
  the peak of the round.
- Switch: a closed-loop loader (undici, ${s.switchConnections} connections) in the bench process reads the colour of every
  answer and the time it arrived, and counts every request that got no 2xx (reset, refused, 5xx).
  cutover: the line "switch <colour>" on the router process's stdin (its admin command), read by an admin
  worker thread that stores the colour into the router's shared active-colour pointer (SharedActiveColour),
  so the command does not wait behind the proxy's I/O on the main event loop; the row "pointer moved" is
  when that thread says it moved the pointer, on the monotonic clock the processes share. HAProxy: \`set map\` over the admin socket (cutover's \`router: haproxy\` data plane).
  nginx: the config rewritten with the other upstream, then \`nginx -s reload\`.
- Several cores: cutover's router started with \`--workers N\` (bench/serve-router.ts; router.workers, node:cluster:
  a primary and N worker processes sharing the listening port), nginx with \`worker_processes N\` (otherwise the
  config above), both started after everything else had run and stopped after their section. CPU and RSS are
  summed over every process of the proxy: cutover's primary and workers (the pids the router announces),
  nginx's master and workers. The switch: the admin command on the primary's stdin, answered once every
  worker has switched; the same loader and counts as above.
- The machine runs wrk, the proxy and the demo app at once, so the figures are for this shape of machine:
  compare the ratios, not the absolute numbers.

## Raw numbers

Every round, in the order it ran:

| round | target | req/s | p50 ms | p99 ms | max ms | requests | errors | CPU s | CPU µs/req | peak RSS MiB |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${[
  ...r.throughput.rounds.map((x) => roundRow(x, NAMES[x.target])),
  ...(r.severalCores?.throughput.rounds ?? []).map((x) => roundRow(x, workersName(x.target))),
].join("\n")}

| switch | proxy | from -> to | requests | failed | kinds | command ms | first new ms | last old ms | old, sent after first new |
| ---: | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |
${[
  ...r.switches.rounds.map((x) => switchRoundRow(x, NAMES[x.proxy])),
  ...(r.severalCores?.switches.rounds ?? []).map((x) => switchRoundRow(x, workersName(x.proxy))),
].join("\n")}

The same numbers as JSON: bench/results/bench.json, written by each run (bench/results/ is not committed).
`;
}

/** Issue 15's targets for the one-process router, each met or not, and where Node's floor stands. */
function goalsParagraph(
  cutover: ThroughputSummary,
  nginx: ThroughputSummary,
  floor: ThroughputSummary | undefined,
): string {
  type Pick = (x: ThroughputSummary) => number;
  const goals: { what: string; pick: Pick; limit: number; atLeast: boolean }[] = [
    { what: "throughput", pick: (x) => x.rps, limit: 0.8, atLeast: true },
    { what: "p99 latency", pick: (x) => x.p99Ms, limit: 1.5, atLeast: false },
    { what: "max latency", pick: (x) => x.maxMs, limit: 3, atLeast: false },
    { what: "CPU per request", pick: (x) => x.cpuUsPerRequest, limit: 1.6, atLeast: false },
  ];
  const met = (value: number, g: { limit: number; atLeast: boolean }) =>
    g.atLeast ? value >= g.limit : value <= g.limit;
  const lines = goals.map((g) => {
    const value = g.pick(cutover) / g.pick(nginx);
    const atFloor = floor === undefined ? undefined : g.pick(floor) / g.pick(nginx);
    const floorSays =
      atFloor === undefined
        ? ""
        : `; Node's floor ${atFloor.toFixed(2)}x${met(atFloor, g) ? "" : ", out of reach for it too"}`;
    return `- ${g.what}: ${value.toFixed(2)}x nginx's (target ${g.atLeast ? ">=" : "<="} ${g.limit}x): ${met(value, g) ? "met" : "not met"}${floorSays}`;
  });
  const rss = `- peak RSS: ${n(cutover.peakRssMiB, 1)} MiB (target <= 90 MiB): ${cutover.peakRssMiB <= 90 ? "met" : "not met"}${floor ? `; Node's floor ${n(floor.peakRssMiB, 1)} MiB${floor.peakRssMiB <= 90 ? "" : ", out of reach for it too"}` : ""}`;
  const versus =
    floor === undefined
      ? ""
      : `\n\nNode's floor is the least a Node proxy does, node:http in and undici out and nothing else (bench/node-floor.ts), measured
in the same interleaved rounds: cutover reached ${ratio(cutover.rps, floor.rps)} its throughput at ${ratio(cutover.cpuUsPerRequest, floor.cpuUsPerRequest)} its CPU per request.
A target the floor misses too cannot be met by any router built on node:http and undici on this machine.`;
  return `Issue 15's targets for the one-process router, measured in this run:\n\n${[...lines, rss].join("\n")}${versus}`;
}

function roundRow(x: ThroughputRound<string>, name: string): string {
  return `| ${x.round} | ${name} | ${n(x.rps)} | ${n(x.p50Ms, 2)} | ${n(x.p99Ms, 2)} | ${n(x.maxMs, 1)} | ${x.requests} | ${x.errors} | ${n(x.cpuSeconds, 2)} | ${n(x.cpuUsPerRequest, 1)} | ${n(x.peakRssMiB, 1)} |`;
}

function switchRoundRow(x: SwitchRound<string>, name: string): string {
  const kinds = Object.entries(x.errorKinds)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  return `| ${x.round} | ${name} | ${x.from} -> ${x.to} | ${x.requests} | ${x.errors} | ${kinds} | ${n(x.commandMs, 1)} | ${n(x.firstNewMs, 1)} | ${n(x.lastOldMs, 1)} | ${x.oldAfterFirstNew} |`;
}

/** "cutover, router.workers: 2" / "nginx, 2 workers". */
function workersName(name: WorkersTargetName): string {
  const workers = /-(\d+)w$/.exec(name)?.[1] ?? "?";
  return name.startsWith("cutover-") ? `cutover, router.workers: ${workers}` : `nginx, ${workers} workers`;
}

const SEVERAL_CORES_TITLE = (workers: number) =>
  `Several cores: router.workers: ${workers} against nginx with ${workers} workers`;

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");

/** The several-cores targets' summaries: cutover's and nginx's (undefined when missing). */
function workersSummaries(c: SeveralCores): {
  cutover: ThroughputSummary<WorkersTargetName> | undefined;
  nginx: ThroughputSummary<WorkersTargetName> | undefined;
} {
  return {
    cutover: c.throughput.summary.find((x) => x.target.startsWith("cutover-")),
    nginx: c.throughput.summary.find((x) => x.target.startsWith("nginx-")),
  };
}

/** A sentence for the headline paragraph: the several-cores throughput ratio and the switches. */
function severalCoresHeadline(c: SeveralCores | null, cutover: ThroughputSummary): string {
  if (c === null) return "";
  const w = workersSummaries(c);
  if (w.cutover === undefined || w.nginx === undefined) return "";
  const sw = c.switches.summary;
  const workers = c.settings.workers;
  return `

With \`router.workers: ${workers}\` the router reached ${ratio(w.cutover.rps, w.nginx.rps)} the throughput of nginx with ${workers} workers
(${ratio(w.cutover.rps, cutover.rps)} its own one-process throughput above), and ${sw.errors === 0 ? "no request failed" : `${n(sw.errors)} requests failed`} across ${sw.switches} switches
under load with ${workers} workers ([${SEVERAL_CORES_TITLE(workers)}](#${anchor(SEVERAL_CORES_TITLE(workers))})).`;
}

/** "## Several cores": router.workers: N against nginx with N workers, and the switches of the former. */
function severalCoresSection(r: BenchResults, cutover: ThroughputSummary, nginx: ThroughputSummary): string {
  const c = r.severalCores ?? null;
  if (c === null) return `## ${SEVERAL_CORES_TITLE(2)}\n\nNot measured in this run (--workers 1).`;
  const s = c.settings;
  const w = workersSummaries(c);
  const cell = (
    x: ThroughputSummary<WorkersTargetName> | undefined,
    pick: (x: ThroughputSummary<WorkersTargetName>) => string,
  ) => (x === undefined ? "-" : pick(x));
  const row = (title: string, pick: (x: ThroughputSummary<WorkersTargetName>) => string) =>
    `| ${title} | ${cell(w.cutover, pick)} | ${cell(w.nginx, pick)} |`;
  const rps = (x: ThroughputSummary<WorkersTargetName> | undefined) => x?.rps ?? Number.NaN;
  const sw = c.switches.summary;
  const nproc = r.machine.nproc;
  const twice = s.workers === 2 ? "double" : `multiply by ${s.workers}`;
  const cores =
    nproc <= s.workers
      ? `**This machine has ${nproc} CPUs: the load generator (wrk), the demo apps and the proxy share the ${nproc} cores,
so ${s.workers} workers cannot ${twice} throughput here.** A second proxy process only helps as far as a core is left
over, and the demo app is one node process whose own ceiling is the "no proxy" column above.`
      : `This machine has ${nproc} CPUs, but the load generator (wrk), the demo apps and the proxy share them, and
the demo app is one node process whose own ceiling is the "no proxy" column above: ${s.workers} workers cannot
${twice} throughput beyond that.`;
  const failed =
    sw.errors === 0
      ? `No request failed across the ${sw.switches} switches`
      : `${n(sw.errors)} requests failed across the ${sw.switches} switches (in ${sw.errorsPerSwitch.filter((e) => e > 0).length} of them;
each switch is in the raw numbers below)`;
  const late =
    sw.oldAfterFirstNew === 0
      ? "no request sent after the first new-colour answer was answered by the old colour"
      : `${n(sw.oldAfterFirstNew)} requests sent after the first new-colour answer were answered by the old colour
(a worker that had not switched yet)`;
  return `## ${SEVERAL_CORES_TITLE(s.workers)}

cutover's router with \`router.workers: ${s.workers}\` (${s.workers} router processes sharing the listening port) against nginx with
\`worker_processes ${s.workers}\`, in front of the same demo apps as above, started after everything above had run.
GET /, ${s.connections} keep-alive connections, wrk with ${s.wrkThreads} thread, ${s.seconds} s per round, median of ${s.rounds} interleaved rounds
(errors summed).

${cores}
The ratio to nginx with as many workers is the comparison to read; the ratios to one process compare
with the main table, measured earlier in the run with ${r.settings.seconds} s rounds.

| | ${w.cutover === undefined ? "cutover" : workersName(w.cutover.target)} | ${w.nginx === undefined ? "nginx" : workersName(w.nginx.target)} |
| --- | ---: | ---: |
${row("requests/s", (x) => n(x.rps))}
${row("p50 latency, ms", (x) => n(x.p50Ms, 2))}
${row("p99 latency, ms", (x) => n(x.p99Ms, 2))}
${row("max latency, ms", (x) => n(x.maxMs, 1))}
${row("CPU per request, µs (all its processes)", (x) => n(x.cpuUsPerRequest, 1))}
${row("peak RSS, MiB (summed over its processes)", (x) => n(x.peakRssMiB, 1))}
${row("errors", (x) => n(x.errors))}
| throughput / nginx with ${s.workers} workers | ${ratio(rps(w.cutover), rps(w.nginx))} | ${ratio(rps(w.nginx), rps(w.nginx))} |
| throughput / the same proxy with one process (main table) | ${ratio(rps(w.cutover), cutover.rps)} | ${ratio(rps(w.nginx), nginx.rps)} |

${sw.switches} switches of the router with ${s.workers} workers (alternating blue -> green and back), each under ${s.connections} closed-loop
keep-alive connections: ${s.switchBeforeMs / 1000} s of load before the switch is issued, ${s.switchAfterMs / 1000} s after. The admin command goes to the
primary process, which answers once every worker has switched. Times in ms from the moment the switch
was issued; medians over the switches, counts summed.

| | ${workersName(sw.proxy)} |
| --- | ---: |
| switches | ${sw.switches} |
| failed requests, all switches | ${n(sw.errors)} |
| switch command returned (every worker switched), ms | ${n(sw.commandMs, 1)} |
| first answer from the new colour, ms | ${n(sw.firstNewMs, 1)} |
| last answer from the old colour, ms | ${n(sw.lastOldMs, 1)} |
| old-colour answers to requests sent after the first new-colour answer | ${n(sw.oldAfterFirstNew)} |
| every worker switched (router's own clock), ms | ${n(sw.appliedMs, 2)} |

${failed}, and ${late}.`;
}

function switchRow(
  title: string,
  summaries: Readonly<Record<ProxyName, SwitchSummary>>,
  cell: (summary: SwitchSummary) => string,
): string {
  return `| ${title} | ${cell(summaries.cutover)} | ${cell(summaries.haproxy)} | ${cell(summaries.nginx)} |`;
}

/** "Memory after 1 million requests": the router's RSS after its warm-up and after the soak. */
function soakSection(soak: RssSoak | null): string {
  const title = "## Memory after 1 million requests";
  if (soak === null) return `${title}\n\nNot measured in this run (--soak-requests 0).`;
  const growth = soak.growth * 100;
  const verdict = soak.growth <= RSS_GROWTH_LIMIT ? "within" : "beyond";
  return `${title}

cutover's router under the same load (wrk, keep-alive) for ${n(soak.requests)} requests after a ${WARMUP_SECONDS} s warm-up
(${n(soak.seconds)} s, ${n(soak.errors)} errors); VmRSS read once the load had stopped, each time.

| RSS after warm-up, MiB | RSS after ${n(soak.requests)} requests, MiB | growth | limit |
| ---: | ---: | ---: | ---: |
| ${n(soak.afterWarmupMiB, 1)} | ${n(soak.afterMiB, 1)} | ${growth.toFixed(1)} % (${verdict} the limit) | ${(RSS_GROWTH_LIMIT * 100).toFixed(0)} % |`;
}
