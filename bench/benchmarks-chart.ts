import type { BenchResults } from "./bench-results.js";
import { type TargetName, TLS_TARGETS } from "./bench-target.js";

interface Bar {
  readonly target: TargetName;
  readonly value: number;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly digits: number;
  readonly bars: readonly Bar[];
}

const FILL: Readonly<Record<TargetName, string>> = {
  direct: "#9e9e9e",
  "node-floor": "#bdbdbd",
  cutover: "#1f77b4",
  nginx: "#2ca02c",
  haproxy: "#d62728",
  "cutover-tls": "#6baed6",
  "nginx-tls": "#74c476",
};
const NAMES: Readonly<Record<TargetName, string>> = {
  direct: "no proxy",
  "node-floor": "Node floor",
  cutover: "cutover",
  nginx: "nginx",
  haproxy: "HAProxy",
  "cutover-tls": "cutover HTTPS",
  "nginx-tls": "nginx HTTPS",
};

const PANEL_WIDTH = 260;
const HEIGHT = 330;
const TOP = 78;
const BOTTOM = 48;

/**
 * A hand-written SVG bar chart of one run: throughput, p99 and CPU per request (medians), and the requests
 * that failed across the switches, one panel each.
 */
export function benchmarksChartSvg(results: BenchResults): string {
  // Plain HTTP only: the HTTPS pair has its own table in BENCHMARKS.md.
  const t = results.throughput.summary.filter((s) => !(TLS_TARGETS as readonly string[]).includes(s.target));
  const proxies = t.filter((s) => s.target !== "direct");
  const panels: Panel[] = [
    {
      title: "Throughput, req/s",
      unit: "higher is better",
      digits: 0,
      bars: t.map((s) => bar(s.target, s.rps)),
    },
    {
      title: "p99 latency, ms",
      unit: "lower is better",
      digits: 1,
      bars: t.map((s) => bar(s.target, s.p99Ms)),
    },
    {
      title: "Proxy CPU per request, µs",
      unit: "lower is better",
      digits: 1,
      bars: proxies.map((s) => bar(s.target, s.cpuUsPerRequest)),
    },
    {
      title: `Failed requests, ${results.settings.switchRounds} switches`,
      unit: "lower is better",
      digits: 0,
      bars: results.switches.summary.map((s) => bar(s.proxy, s.errors)),
    },
  ];
  const width = PANEL_WIDTH * panels.length;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    "<title>Throughput and switch: cutover's router, nginx and HAProxy</title>",
    `<rect width="${width}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">cutover's router, nginx and HAProxy in front of the same demo app (${results.machine.nproc} CPUs, ${results.at.slice(0, 10)})</text>`,
    `<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">wrk, ${results.settings.connections} keep-alive connections, median of ${results.settings.rounds} interleaved rounds of ${results.settings.seconds} s; switches under ${results.settings.switchConnections} connections</text>`,
    ...panels.map((panel, i) => panelSvg(panel, i * PANEL_WIDTH)),
    "</svg>",
  ];
  return `${parts.join("\n")}\n`;
}

const bar = (target: TargetName, value: number): Bar => ({ target, value });

function panelSvg(panel: Panel, x0: number): string {
  const max = Math.max(...panel.bars.map((b) => b.value).filter(Number.isFinite), 1e-9);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (PANEL_WIDTH - 30) / Math.max(1, panel.bars.length);
  const bars = panel.bars.map((b, i) => {
    const height = Number.isFinite(b.value) ? (b.value / max) * plotHeight : 0;
    const x = x0 + 20 + i * slot + slot * 0.12;
    const y = TOP + plotHeight - height;
    const barWidth = slot * 0.76;
    const middle = (x + barWidth / 2).toFixed(1);
    return [
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${FILL[b.target]}"/>`,
      `<text x="${middle}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${format(b.value, panel.digits)}</text>`,
      `<text x="${middle}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle">${NAMES[b.target]}</text>`,
    ].join("\n");
  });
  return [
    `<text x="${x0 + PANEL_WIDTH / 2}" y="${TOP - 22}" text-anchor="middle" font-weight="bold">${panel.title}</text>`,
    `<line x1="${x0 + 15}" y1="${TOP + plotHeight}" x2="${x0 + PANEL_WIDTH - 10}" y2="${TOP + plotHeight}" stroke="#333"/>`,
    `<text x="${x0 + PANEL_WIDTH / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="#555">${panel.unit}</text>`,
    ...bars,
  ].join("\n");
}

function format(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "-";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
