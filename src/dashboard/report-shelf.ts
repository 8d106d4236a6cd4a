import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ReportIndex } from "./live-message.js";

/** The content types of the report files the dashboard hands out; anything else stays on disk. */
export const REPORT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

const ID = /^[\w.-]{1,64}$/;
const NAME = /^[\w.-]{1,128}$/;

/**
 * The deploy reports the analysis writes, found by deploy id in one folder: `<id>.<ext>`,
 * `<id>-<anything>.<ext>`, or any file in a folder `<id>/`. Names are checked against fixed patterns and
 * resolved inside the folder, so a request can never reach another file.
 */
export class ReportShelf {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The report files of each of `ids` that has any. */
  index(ids: readonly string[]): ReportIndex {
    if (!existsSync(this.dir)) return {};
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return {};
    }
    const index: Record<string, string[]> = {};
    for (const id of ids) {
      if (!ID.test(id)) continue;
      const files = [
        ...entries.filter((name) => this.#isReport(name) && belongsTo(name, id)),
        ...this.#folder(id).map((name) => `${id}/${name}`),
      ];
      if (files.length > 0) index[id] = files.sort();
    }
    return index;
  }

  /** The path of one report file of deploy `id`, or null when there is no such file. */
  find(id: string, file: string): { path: string; contentType: string } | null {
    if (!ID.test(id)) return null;
    const [first, second, ...more] = file.split("/");
    if (first === undefined || more.length > 0) return null;
    const inFolder = second !== undefined;
    const name = inFolder ? second : first;
    if (inFolder && first !== id) return null;
    if (!NAME.test(name) || !this.#isReport(name)) return null;
    if (!inFolder && !belongsTo(name, id)) return null;
    const path = inFolder ? join(this.dir, id, name) : join(this.dir, name);
    try {
      if (!statSync(path).isFile()) return null;
    } catch {
      return null;
    }
    return { path, contentType: REPORT_TYPES[extension(name)] ?? "application/octet-stream" };
  }

  #folder(id: string): string[] {
    const folder = join(this.dir, id);
    try {
      return statSync(folder).isDirectory() ? readdirSync(folder).filter((n) => this.#isReport(n)) : [];
    } catch {
      return [];
    }
  }

  #isReport(name: string): boolean {
    return NAME.test(name) && REPORT_TYPES[extension(name)] !== undefined;
  }
}

function belongsTo(name: string, id: string): boolean {
  return name.startsWith(`${id}.`) || name.startsWith(`${id}-`) || name.startsWith(`${id}_`);
}

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot).toLowerCase();
}
