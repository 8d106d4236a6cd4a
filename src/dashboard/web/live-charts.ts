import type { Colour } from "../../colour.js";
import type { LivePoint } from "../live-message.js";
import type { DashboardState } from "./dashboard-state.js";
import { el } from "./dom.js";
import { latency, percent, rate } from "./format.js";
import { lineChart, type Series } from "./line-chart.js";

const COLOURS: readonly Colour[] = ["blue", "green"];

interface ChartDef {
  readonly id: string;
  readonly title: string;
  readonly minTop: number;
  readonly format: (v: number, top: number) => string;
  readonly series: (
    colour: Colour,
  ) => readonly { key: (p: LivePoint) => number | null; dashed: boolean; name: string }[];
}

const CHARTS: readonly ChartDef[] = [
  {
    id: "chart-rate",
    title: "Requests per second",
    minTop: 1,
    format: (v, top) => (top >= 4000 ? `${v / 1000}k` : String(Math.round(v * 100) / 100)),
    series: () => [{ key: (p) => p.rate, dashed: false, name: "" }],
  },
  {
    id: "chart-errors",
    title: "Error rate",
    minTop: 0.01,
    format: (v, top) => percent(v, top <= 0.04 ? 2 : top <= 0.4 ? 1 : 0),
    series: () => [{ key: (p) => p.errorRate, dashed: false, name: "" }],
  },
  {
    id: "chart-latency",
    title: "Latency p50 and p99",
    minTop: 0.004,
    format: (v, top) => (top >= 4 ? `${v} s` : `${Math.round(v * 1e4) / 10} ms`),
    series: () => [
      { key: (p) => p.p50, dashed: false, name: "p50 " },
      { key: (p) => p.p99, dashed: true, name: "p99 " },
    ],
  },
];

/** Request rate, error rate and latency per colour over the last minutes, switch and rollback marked. */
export class LiveCharts {
  readonly #slots: Map<string, HTMLElement>;

  constructor(container: HTMLElement) {
    this.#slots = new Map();
    for (const chart of CHARTS) {
      const figure = el("div", { class: "chart-area" });
      container.append(el("figure", { class: "chart", id: chart.id }, el("h3", {}, chart.title), figure));
      this.#slots.set(chart.id, figure);
    }
  }

  update(state: DashboardState): void {
    // The last minutes, or less while the page knows less, but at least one minute.
    const to = state.ticks.at(-1)?.at ?? state.now();
    const first = state.ticks[0]?.at ?? to;
    const from = Math.max(to - state.windowMs, Math.min(first, to - 60_000));
    const moments = state.moments();
    const last = state.ticks.at(-1);
    for (const chart of CHARTS) {
      const series: Series[] = COLOURS.flatMap((colour) =>
        chart.series(colour).map((s) => ({
          colour,
          dashed: s.dashed,
          points: state.ticks.map((t) => [t.at, s.key(t.colours[colour])] as const),
        })),
      );
      const words = last
        ? COLOURS.map((c) =>
            chart
              .series(c)
              .map((s) => `${c} ${s.name}${valueText(chart, s.key(last.colours[c]))}`)
              .join(", "),
          ).join("; ")
        : "no samples yet";
      const slot = this.#slots.get(chart.id);
      if (!slot) continue;
      slot.replaceChildren(
        lineChart({
          label: `${chart.title}: ${words}`,
          from,
          to,
          series,
          moments,
          format: chart.format,
          minTop: chart.minTop,
        }),
      );
    }
  }
}

function valueText(chart: ChartDef, value: number | null): string {
  if (chart.id === "chart-rate") return rate(value);
  if (chart.id === "chart-errors") return percent(value);
  return latency(value);
}
