import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile } from "vega-lite";
import { chartSpec, FONT } from "./chart-spec.js";
import type { ReportModel } from "./report-model.js";
import { summarySvg } from "./summary-svg.js";

/** The charts as an SVG document, rendered by Vega on the server (no browser, no canvas). */
export async function chartsSvg(model: ReportModel): Promise<{ svg: string; width: number; height: number }> {
  const view = new View(parse(compile(chartSpec(model)).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 0);
    const height = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 0);
    return { svg, width, height };
  } finally {
    view.finalize();
  }
}

/** The whole report picture: the summary panel above the charts (drawn here unless given), as one SVG. */
export async function reportSvg(
  model: ReportModel,
  drawn?: { svg: string; width: number; height: number },
): Promise<string> {
  const charts = drawn ?? (await chartsSvg(model));
  const width = Math.max(charts.width, 800);
  const summary = summarySvg(model, width);
  const height = summary.height + charts.height;
  const nested = charts.svg
    .replace(/^<\?xml[^>]*>\s*/, "")
    .replace(/^<svg /, `<svg x="0" y="${summary.height}" `);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    summary.svg,
    nested,
    "</svg>",
  ].join("\n");
}

/** An SVG as PNG, by resvg; text in DejaVu Sans (Debian's fonts-dejavu-core), falling back to the system's fonts. */
export function svgToPng(svg: string, scale = 1): Buffer {
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return resvg.render().asPng();
}
