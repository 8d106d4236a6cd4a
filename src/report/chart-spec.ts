import type { TopLevelSpec } from "vega-lite";
import type { ReportModel, ReportPoint } from "./report-model.js";

export const COLOUR_HEX = { blue: "#1f5fbf", green: "#1e9e45" } as const;
const SWITCH_HEX = "#222222";
const ROLLBACK_HEX = "#d62728";
export const CHART_WIDTH = 920;
const CHART_HEIGHT = 150;
export const FONT = "DejaVu Sans";

/**
 * The report's charts as one Vega-Lite spec: error rate, latency p50/p99 and request volume of both colours
 * against seconds since the deploy started, with the analysis spans shaded and the switch and rollback
 * moments drawn as labelled rules on each.
 */
export function chartSpec(model: ReportModel): TopLevelSpec {
  const times = [
    ...model.volume.map((p) => p.t),
    ...model.marks.map((m) => m.at),
    ...model.spans.flatMap((s) => [s.from, s.to]),
  ];
  const start = model.startedAt ?? (times.length > 0 ? Math.min(...times) : 0);
  const first = times.length > 0 ? Math.min(...times) : start;
  const end = times.length > 0 ? Math.max(...times) : 1;
  const seconds = (t: number) => Math.round(((t - start) / 1000) * 100) / 100;
  const domain = [Math.min(0, seconds(first)), Math.max(1, seconds(end))];
  const points = (list: readonly ReportPoint[]) =>
    list.map((p) => ({
      t: seconds(p.t),
      colour: p.colour,
      series: p.series,
      value: p.value,
      quantile: p.series.split(" ")[1] ?? "",
    }));
  const marks = model.marks.map((m) => ({ t: seconds(m.at), label: m.label, kind: m.kind }));
  const spans = model.spans.map((s) => ({ from: seconds(s.from), to: seconds(s.to), label: s.label }));
  const x = {
    field: "t",
    type: "quantitative" as const,
    scale: { domain, nice: false },
    title: "seconds since the deploy started",
  };
  const colour = {
    field: "colour",
    type: "nominal" as const,
    scale: { domain: ["blue", "green"], range: [COLOUR_HEX.blue, COLOUR_HEX.green] },
    legend: { title: "colour", orient: "right" as const },
  };
  const overlays = [
    {
      data: { values: spans },
      mark: { type: "rect" as const, color: "#8a8a8a", opacity: 0.1 },
      encoding: {
        x: { field: "from", type: "quantitative" as const, scale: { domain, nice: false } },
        x2: { field: "to" },
      },
    },
    {
      data: { values: spans },
      mark: {
        type: "text" as const,
        align: "left" as const,
        baseline: "bottom" as const,
        dx: 4,
        y: CHART_HEIGHT - 3,
        fontSize: 10,
        color: "#666666",
      },
      encoding: {
        x: { field: "from", type: "quantitative" as const, scale: { domain, nice: false } },
        text: { field: "label" },
      },
    },
    {
      data: { values: marks },
      mark: { type: "rule" as const, strokeWidth: 2, strokeDash: [6, 3] },
      encoding: {
        x: { field: "t", type: "quantitative" as const, scale: { domain, nice: false } },
        color: {
          field: "kind",
          type: "nominal" as const,
          scale: { domain: ["switch", "rollback"], range: [SWITCH_HEX, ROLLBACK_HEX] },
          legend: { title: "moment" },
        },
      },
    },
    {
      data: { values: marks },
      mark: {
        type: "text" as const,
        align: "left" as const,
        baseline: "top" as const,
        dx: 4,
        y: 2,
        fontSize: 11,
        fontWeight: "bold" as const,
      },
      encoding: {
        x: { field: "t", type: "quantitative" as const, scale: { domain, nice: false } },
        text: { field: "label" },
        color: {
          field: "kind",
          type: "nominal" as const,
          scale: { domain: ["switch", "rollback"], range: [SWITCH_HEX, ROLLBACK_HEX] },
          legend: null,
        },
      },
    },
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
      ...overlays,
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
    vconcat: [
      panel("Error rate", "errors (%)", points(model.errorRate), { scale: yScale(model.errorRate, 1) }),
      panel(
        "Latency",
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
      panel("Request volume", "requests per second", points(model.volume), {
        scale: yScale(model.volume, 1),
      }),
    ],
    spacing: 28,
    resolve: {
      scale: { color: "independent", strokeDash: "independent" },
      legend: { color: "independent", strokeDash: "independent" },
    },
  } as TopLevelSpec;
}
