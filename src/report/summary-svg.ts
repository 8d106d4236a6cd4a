import { escapeXml } from "./escape-xml.js";
import type { ReportModel } from "./report-model.js";

const BADGE: Readonly<Record<ReportModel["severity"], string>> = {
  good: "#1e9e45",
  warning: "#d08a00",
  bad: "#d62728",
};
const LINE = 17;

/** The summary panel at the top of the report picture: title, verdict badge, and the lines with the numbers. */
export function summarySvg(model: ReportModel, width: number): { svg: string; height: number } {
  const perLine = Math.floor((width - 40) / 7.1);
  const wrapped = model.lines.flatMap((line) => wrap(line, perLine));
  const badgeWidth = 24 + model.verdict.length * 11;
  const parts = [
    `<text x="20" y="34" font-size="20" font-weight="bold" fill="#111">${escapeXml(model.title)}</text>`,
    `<rect x="${width - badgeWidth - 20}" y="14" width="${badgeWidth}" height="30" rx="6" fill="${BADGE[model.severity]}"/>`,
    `<text x="${width - badgeWidth / 2 - 20}" y="35" font-size="17" font-weight="bold" fill="white" text-anchor="middle">${escapeXml(model.verdict)}</text>`,
    `<text x="20" y="60" font-size="13" fill="#333">${escapeXml(model.headline)}</text>`,
    ...wrapped.map(
      (line, i) => `<text x="20" y="${86 + i * LINE}" font-size="12" fill="#333">${escapeXml(line)}</text>`,
    ),
  ];
  const height = 86 + wrapped.length * LINE + 8;
  return {
    svg: `<g>\n<rect x="8" y="6" width="${width - 16}" height="${height - 10}" rx="8" fill="#f6f7f9" stroke="#d5d8de"/>\n${parts.join("\n")}\n</g>`,
    height,
  };
}

/** Splits `text` into lines of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  let first = true;
  while (rest.length > 0) {
    const room = first ? width : width - 2;
    if (rest.length <= room) {
      lines.push(first ? rest : `  ${rest}`);
      break;
    }
    let cut = rest.lastIndexOf(" ", room);
    if (cut <= room / 2) cut = room;
    lines.push(first ? rest.slice(0, cut) : `  ${rest.slice(0, cut)}`);
    rest = rest.slice(cut).trimStart();
    first = false;
  }
  return lines;
}
