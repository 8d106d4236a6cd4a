import type { Colour } from "../../colour.js";
import type { Moment } from "./dashboard-state.js";
import { svg } from "./dom.js";
import { clock } from "./format.js";

export interface Series {
  readonly colour: Colour;
  readonly dashed?: boolean;
  /** [epoch ms, value]; null leaves a gap. */
  readonly points: readonly (readonly [number, number | null])[];
}

export interface ChartSpec {
  readonly label: string;
  readonly from: number;
  readonly to: number;
  readonly series: readonly Series[];
  readonly moments: readonly Moment[];
  /** A y axis label; `top` is the axis's end, for the precision. */
  readonly format: (value: number, top: number) => string;
  /** The y axis reaches at least this far (so a flat zero line stays at the bottom). */
  readonly minTop: number;
}

const W = 420;
const H = 190;
const M = { left: 56, right: 10, top: 18, bottom: 24 };

/** A small line chart as inline SVG, styled by the page's CSS (so it follows light and dark mode). */
export function lineChart(spec: ChartSpec): SVGSVGElement {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const values = spec.series
    .flatMap((s) => s.points.map(([, v]) => v))
    .filter((v): v is number => v !== null);
  const top = niceTop(Math.max(spec.minTop, ...values));
  const span = Math.max(1, spec.to - spec.from);
  const x = (t: number) => M.left + ((t - spec.from) / span) * plotW;
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": spec.label,
    focusable: "false",
  });
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    root.append(
      svg("line", { class: "gridline", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      svg("text", { class: "axis", x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, spec.format(v, top)),
    );
  }
  const ticks = timeTicks(spec.from, spec.to);
  const seconds = ticks.length > 1 && (ticks[1] ?? 0) - (ticks[0] ?? 0) < 60_000;
  for (const t of ticks) {
    root.append(
      svg("text", { class: "axis", x: x(t), y: H - 6, "text-anchor": "middle" }, clock(t, seconds)),
    );
  }
  if (values.length === 0) {
    root.append(
      svg(
        "text",
        { class: "empty", x: M.left + plotW / 2, y: M.top + plotH / 2, "text-anchor": "middle" },
        "waiting for traffic…",
      ),
    );
  }
  for (const series of spec.series) {
    const d = pathOf(series.points, x, y, spec.from);
    if (d) root.append(svg("path", { class: `line ${series.colour}${series.dashed ? " dashed" : ""}`, d }));
  }
  // Labels that would overlap go one row lower (three rows), then are left out; the lines always show.
  const rowEnds = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const m of spec.moments) {
    if (m.at < spec.from || m.at > spec.to) continue;
    const mx = x(m.at);
    root.append(svg("line", { class: `marker ${m.kind}`, x1: mx, x2: mx, y1: M.top - 4, y2: M.top + plotH }));
    const width = m.label.length * 6 + 6;
    const end = mx > W - 90 ? "end" : "start";
    const left = end === "end" ? mx - width : mx;
    const row = rowEnds.findIndex((rowEnd) => rowEnd < left);
    if (row < 0) continue;
    rowEnds[row] = left + width;
    const ly = M.top - 6 + row * 12;
    root.append(
      svg(
        "text",
        { class: `marker-label ${m.kind}`, x: mx + (end === "end" ? -3 : 3), y: ly, "text-anchor": end },
        m.label,
      ),
    );
  }
  return root;
}

function pathOf(
  points: readonly (readonly [number, number | null])[],
  x: (t: number) => number,
  y: (v: number) => number,
  from: number,
): string {
  let d = "";
  let pen = false;
  for (const [t, v] of points) {
    if (v === null || t < from) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** The top of the y axis: 1, 2, 4, 6 or 8 times a power of ten at or above `max`, so quarters stay round. */
export function niceTop(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 4, 6, 8, 10]) if (step * power >= max * 0.999_999) return step * power;
  return 10 * power;
}

function timeTicks(from: number, to: number): number[] {
  const span = to - from;
  const step = span > 8 * 60_000 ? 120_000 : span > 3 * 60_000 ? 60_000 : span > 90_000 ? 30_000 : 20_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}
