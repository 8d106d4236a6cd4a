import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type JournalContents, readJournal } from "./deploy-journal.js";
import { reportHtml } from "./report-html.js";
import { reportModel } from "./report-model.js";

export interface WrittenReport {
  readonly html: string;
  readonly png: string;
}

/** The files of a deploy's report. */
export function reportPaths(dir: string, deployId: string): WrittenReport {
  return { html: join(dir, `${deployId}.html`), png: join(dir, `${deployId}.png`) };
}

/**
 * Writes a deploy's report into `dir`: <id>.html (self-contained, charts inline as SVG) and <id>.png (the
 * summary panel and the charts), both drawn on the server from the deploy's journal.
 */
export async function writeReport(journal: JournalContents | string, dir: string): Promise<WrittenReport> {
  const contents = typeof journal === "string" ? readJournal(journal) : journal;
  const model = reportModel(contents);
  const id = contents.record?.id ?? contents.meta?.deployId ?? "deploy";
  const paths = reportPaths(dir, id);
  // vega, vega-lite and resvg take about half a CPU-second to load: the daemon loads them for its first report.
  const { chartsSvg, reportSvg, svgToPng } = await import("./render-charts.js");
  const charts = await chartsSvg(model);
  const picture = await reportSvg(model, charts);
  mkdirSync(dir, { recursive: true });
  replaceFile(paths.html, reportHtml(model, charts.svg));
  replaceFile(paths.png, svgToPng(picture));
  return paths;
}

/** Writes a temporary file and renames it over `path`, so a reader never sees half a report. */
function replaceFile(path: string, content: string | Buffer): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}
