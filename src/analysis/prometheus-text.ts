/** One sample line of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export const FAMILY_TYPES = ["counter", "gauge", "histogram", "summary", "untyped"] as const;
export type FamilyType = (typeof FAMILY_TYPES)[number];

/** A metric family: its # TYPE and every sample line that belongs to it (_bucket, _sum, _count included). */
export interface PromFamily {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly samples: readonly PromSample[];
}

/** A line that is not valid exposition text; the message names the line. */
export class PromTextError extends Error {
  constructor(line: number, detail: string) {
    super(`Prometheus text, line ${line}: ${detail}; is this a Prometheus /metrics endpoint?`);
    this.name = "PromTextError";
  }
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count", "_created"],
  summary: ["_sum", "_count", "_created"],
  counter: ["_total", "_created"],
};

/**
 * Parses the Prometheus text exposition format (version 0.0.4, and the OpenMetrics lines it shares):
 * # HELP and # TYPE, label values with \\ \" \n escapes, NaN and ±Inf, optional timestamps.
 * Sample lines are grouped into the family whose # TYPE declared them (histogram _bucket/_sum/_count);
 * a sample with no declaration forms an untyped family of its own.
 */
export function parsePrometheusText(text: string): PromFamily[] {
  const families = new Map<string, { name: string; type: FamilyType; help: string; samples: PromSample[] }>();
  const family = (name: string) => {
    let found = families.get(name);
    if (found === undefined) {
      found = { name, type: "untyped", help: "", samples: [] };
      families.set(name, found);
    }
    return found;
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line === "# EOF") continue;
    if (line.startsWith("#")) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (match === null) continue;
      const target = family(match[2] as string);
      if (match[1] === "HELP") target.help = unescapeHelp(match[3] as string);
      else target.type = familyType(match[3] as string, i + 1);
      continue;
    }
    const sample = parseSample(line, i + 1);
    familyOf(sample.name, families, family).samples.push(sample);
  }
  return [...families.values()].filter((f) => f.samples.length > 0);
}

function familyOf(
  name: string,
  families: ReadonlyMap<string, { type: FamilyType }>,
  create: (name: string) => { samples: PromSample[] },
): { samples: PromSample[] } {
  const exact = families.get(name);
  if (exact !== undefined && exact.type !== "histogram" && exact.type !== "summary") return create(name);
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!name.endsWith(suffix)) continue;
      const base = name.slice(0, -suffix.length);
      if (families.get(base)?.type === type) return create(base);
    }
  }
  return create(name);
}

function familyType(word: string, line: number): FamilyType {
  const type = word.trim().toLowerCase();
  if (type === "unknown") return "untyped";
  if ((FAMILY_TYPES as readonly string[]).includes(type)) return type as FamilyType;
  if (type === "gaugehistogram") return "histogram";
  if (type === "info" || type === "stateset") return "gauge";
  throw new PromTextError(line, `unknown metric type "${word}"`);
}

function parseSample(line: string, lineNo: number): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) throw new PromTextError(lineNo, `expected a metric name at "${line.slice(0, 40)}"`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") pos = parseLabels(line, pos + 1, labels, lineNo);
  const rest = line.slice(pos).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? "", lineNo);
  return { name, labels, value };
}

/** Reads `name="value",...}` from `pos`; returns the position after the closing brace. */
function parseLabels(line: string, start: number, labels: Record<string, string>, lineNo: number): number {
  let pos = start;
  for (;;) {
    while (line[pos] === " " || line[pos] === ",") pos++;
    if (line[pos] === "}") return pos + 1;
    const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
    if (label === null) throw new PromTextError(lineNo, "expected a label name");
    pos += label[0].length;
    while (line[pos] === " ") pos++;
    if (line[pos] !== "=" || line[pos + 1] !== '"')
      throw new PromTextError(lineNo, `expected ="…" after ${label[0]}`);
    pos += 2;
    let value = "";
    for (;;) {
      const ch = line[pos];
      if (ch === undefined) throw new PromTextError(lineNo, `unterminated value of label ${label[0]}`);
      pos++;
      if (ch === '"') break;
      if (ch === "\\") {
        const next = line[pos++];
        value += next === "n" ? "\n" : (next ?? "");
      } else value += ch;
    }
    labels[label[0]] = value;
  }
}

function parseValue(text: string, lineNo: number): number {
  switch (text) {
    case "NaN":
      return Number.NaN;
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
  }
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new PromTextError(lineNo, `expected a number, got "${text}"`);
  return value;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch));
}

/** The upper bound of a histogram bucket label ("+Inf" included). */
export function parseBound(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  if (le === "+Inf" || le === "Inf") return Number.POSITIVE_INFINITY;
  const value = Number(le);
  return Number.isNaN(value) ? undefined : value;
}
