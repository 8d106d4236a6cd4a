import type { TopLevelSpec } from "vega-lite";
import type { ReportModel, ReportPoint } from "./report-model.js";

export const COLOUR_HEX = { blue: "#1f5fbf", green: "#1e9e45" } as const;
const SWITCH_HEX = "#222222";
const ROLLBACK_HEX = "#d62728";
export const CHART_WIDTH = 440;
const CHART_HEIGHT = 170;
export const FONT = "DejaVu Sans";
const VERDICT_HEX = { good: "#1e9e45", warning: "#b07400", bad: "#d62728" } as const;

/** Cuts `text` to `max` characters, with an ellipsis when it was longer. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The report's charts as one Vega-Lite spec, in a 2x2 grid: error rate and latency (p50/p99) on top,
 * request rate and the verdict with the deploy's moments below. Each panel has both colours against
 * seconds since the deploy started, the analysis spans shaded and the switch and rollback moments drawn
 * as labelled rules; the verdict panel shows which colour was live when.
 */
export function chartSpec(model: ReportModel): TopLevelSpec {
  const times = [
    ...model.volume.map((p) => p.t),
    ...model.marks.map((m) => m.at),
    ...model.spans.flatMap((s) => [s.from, s.to]),
    ...model.live.flatMap((s) => [s.from, s.to]),
  ];
  const start = model.startedAt ?? (times.length > 0 ? Math.min(...times) : 0);
  const first = times.length > 0 ? Math.min(...times) : start;
  const end = times.length > 0 ? Math.max(...times) : 1;
  const seconds = (t: number) => Math.round(((t - start) / 1000) * 100) / 100;
  const domain: [number, number] = [Math.min(0, seconds(first)), Math.max(1, seconds(end))];
  const points = (list: readonly ReportPoint[]) =>
    list.map((p) => ({
      t: seconds(p.t),
      colour: p.colour,
      series: p.series,
      value: p.value,
      quantile: p.series.split(" ")[1] ?? "",
    }));
  // Labels of moments close together go on rows of their own, so they never print over each other.
  const marks = model.marks.map((m, i) => ({
    t: seconds(m.at),
    label: m.label,
    kind: m.kind,
    row: 2 + 14 * i,
  }));
  const spans = model.spans.map((s) => ({ from: seconds(s.from), to: seconds(s.to), label: s.label }));
  const xScale = { domain, nice: false };
  const x = {
    field: "t",
    type: "quantitative" as const,
    scale: xScale,
    title: "seconds since the deploy started",
  };
  const colour = {
    field: "colour",
    type: "nominal" as const,
    scale: { domain: ["blue", "green"], range: [COLOUR_HEX.blue, COLOUR_HEX.green] },
    legend: { title: "colour", orient: "right" as const },
  };
  // The moments are named by their labels: no legend for them.
  const momentColour = {
    field: "kind",
    type: "nominal" as const,
    scale: { domain: ["switch", "rollback"], range: [SWITCH_HEX, ROLLBACK_HEX] },
    legend: null,
  };
  /** Where a label at `t` fits: right of its rule, or left of it near the right edge. */
  const span = domain[1] - domain[0];
  const rightSide = (t: number) => (t - domain[0]) / span < 0.62;
  /** Shaded analysis spans, from pixel row `top` down. */
  const spanLayers = (top: number) => [
    {
      data: { values: spans },
      mark: { type: "rect" as const, color: "#8a8a8a", opacity: 0.1, y: top, y2: CHART_HEIGHT },
      encoding: {
        x: { field: "from", type: "quantitative" as const, scale: xScale },
        x2: { field: "to" },
      },
    },
    ...[true, false].map((right) => ({
      data: { values: spans.filter((x) => rightSide(x.from) === right) },
      mark: {
        type: "text" as const,
        align: right ? ("left" as const) : ("right" as const),
        baseline: "bottom" as const,
        dx: right ? 4 : -4,
        y: CHART_HEIGHT - 3,
        fontSize: 10,
        color: "#666666",
      },
      encoding: {
        x: { field: right ? "from" : "to", type: "quantitative" as const, scale: xScale },
        text: { field: "label" },
      },
    })),
  ];
  /** The switch and rollback rules, from pixel row `top` down, with their labels. */
  const momentLayers = (top: number) => [
    {
      data: { values: marks },
      mark: { type: "rule" as const, strokeWidth: 2, strokeDash: [6, 3], y: top, y2: CHART_HEIGHT },
      encoding: {
        x: { field: "t", type: "quantitative" as const, scale: xScale },
        color: momentColour,
      },
    },
    ...[true, false].map((right) => ({
      data: { values: marks.filter((m) => rightSide(m.t) === right).map((m) => ({ ...m, py: top + m.row })) },
      mark: {
        type: "text" as const,
        align: right ? ("left" as const) : ("right" as const),
        baseline: "top" as const,
        dx: right ? 4 : -4,
        fontSize: 11,
        fontWeight: "bold" as const,
      },
      encoding: {
        x: { field: "t", type: "quantitative" as const, scale: xScale },
        y: { field: "py", type: "quantitative" as const, scale: null, axis: null },
        text: { field: "label" },
        color: momentColour,
      },
    })),
  ];
  const yScale = (points: readonly ReportPoint[], floor: number) => ({
    domain: [0, Math.max(floor, ...points.map((p) => p.value * 1.1))],
    nice: true,
  });
  const panel = (
    title: string,
    yTitle: string,
    values: unknown[],
    y: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) => ({
    title: { text: title, anchor: "start" as const, fontSize: 14 },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      ...spanLayers(0),
      ...momentLayers(0),
      {
        data: { values },
        mark: { type: "line" as const, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: "value", type: "quantitative" as const, title: yTitle, ...y },
          color: colour,
          detail: { field: "series" },
          ...extra,
        },
      },
    ],
    resolve: { scale: { color: "independent" as const, strokeDash: "independent" as const } },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 12,
    config: {
      font: FONT,
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
      legend: { labelFontSize: 11, titleFontSize: 12 },
      view: { stroke: "#cccccc" },
    },
    columns: 2,
    concat: [
      panel("Error rate", "errors (%)", points(model.errorRate), { scale: yScale(model.errorRate, 1) }),
      panel(
        "Latency (p50, p99)",
        "latency (ms)",
        points(model.latency),
        { scale: yScale(model.latency, 1) },
        {
          strokeDash: {
            field: "quantile",
            type: "nominal",
            scale: {
              domain: ["p50", "p99"],
              range: [
                [1, 0],
                [5, 3],
              ],
            },
            legend: { title: "quantile" },
          },
        },
      ),
      panel("Request rate", "requests per second", points(model.volume), {
        scale: yScale(model.volume, 1),
      }),
      verdictPanel(model, seconds, domain, x, colour, spanLayers, momentLayers),
    ],
    spacing: 28,
    resolve: {
      scale: { color: "independent", strokeDash: "independent" },
      legend: { color: "independent", strokeDash: "independent" },
    },
  } as TopLevelSpec;
}

/** Where the verdict panel's timeline starts (pixels from its top); the words are above it. */
const TIMELINE_TOP = 84;

/**
 * The fourth panel: the verdict and each analysis's outcome in words at the top; below, the deploy's
 * timeline: which colour was live when (a band in its colour), the analysis spans, the switch and rollback.
 */
function verdictPanel(
  model: ReportModel,
  seconds: (t: number) => number,
  domain: readonly [number, number],
  x: Record<string, unknown>,
  colour: Record<string, unknown>,
  spanLayers: (top: number) => unknown[],
  momentLayers: (top: number) => unknown[],
) {
  const words = [
    ...model.analyses.map(
      (a) =>
        `${a.phase} analysis: ${a.verdict}${a.score === null ? "" : ` (score ${a.score})`}: ${a.summary.split(";")[0] ?? ""}`,
    ),
    ...(model.analyses.length === 0 ? ["no analysis ran for this deploy"] : []),
    model.marks.map((m) => `${m.label} at ${seconds(m.at).toFixed(1)} s`).join(", ") || "traffic never moved",
  ]
    .slice(0, 3)
    .map((text, i) => ({ text: clip(text, 72), y: 36 + 15 * i }));
  const live = model.live.map((s) => ({
    from: seconds(s.from),
    to: seconds(s.to),
    colour: s.colour,
    label: s.label,
  }));
  const band = { top: TIMELINE_TOP + 40, bottom: TIMELINE_TOP + 64 };
  return {
    title: { text: "Verdict and moments", anchor: "start" as const, fontSize: 14 },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: [{ text: model.verdict }] },
        mark: {
          type: "text" as const,
          align: "left" as const,
          baseline: "top" as const,
          x: 6,
          y: 4,
          fontSize: 20,
          fontWeight: "bold" as const,
          color: VERDICT_HEX[model.severity],
        },
        encoding: { text: { field: "text" } },
      },
      {
        data: { values: words },
        mark: {
          type: "text" as const,
          align: "left" as const,
          baseline: "top" as const,
          x: 6,
          fontSize: 11,
          color: "#333333",
        },
        encoding: {
          y: { field: "y", type: "quantitative" as const, scale: null, axis: null },
          text: { field: "text" },
        },
      },
      ...spanLayers(TIMELINE_TOP),
      {
        data: { values: live },
        mark: { type: "rect" as const, y: band.top, y2: band.bottom, opacity: 0.85 },
        encoding: {
          x: { ...x, field: "from" },
          x2: { field: "to" },
          color: colour,
        },
      },
      {
        // A colour's label only where its band is wide enough to hold it.
        data: { values: live.filter((s) => (s.to - s.from) / (domain[1] - domain[0]) > 0.2) },
        mark: {
          type: "text" as const,
          align: "left" as const,
          baseline: "middle" as const,
          dx: 4,
          y: (band.top + band.bottom) / 2,
          fontSize: 11,
          fontWeight: "bold" as const,
          color: "white",
        },
        encoding: {
          x: { field: "from", type: "quantitative" as const, scale: x.scale },
          text: { field: "label" },
        },
      },
      ...momentLayers(TIMELINE_TOP),
    ],
    resolve: { scale: { color: "independent" as const } },
  };
}
