import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { CutoverError } from "../errors.js";
import { writeFileAtomic } from "./atomic-write.js";
import type { DeployRecord } from "./lifecycle.js";

/**
 * The deploy history as an append-only file, one JSON record per line (history.ndjson): a deploy adds one
 * line and one fsync, however long the history is, where rewriting a whole JSON list grew with it (about
 * 0.4 s of a blocked event loop per deploy at 5,000 deploys, measured). A record written again (a retried
 * write) is a new line; the last line of an id wins, in the place of its last write.
 *
 * Crash safety: a crash in the middle of an append leaves a last line without its newline; reading skips
 * it (its record was not written, so its deploy is still in state.json and is closed again at start), and
 * the next append cuts it off first. A failed append (a full disk) is cut back to where it began.
 */
export class HistoryLog {
  readonly #path: string;
  readonly #legacy: string;

  /** `path`: the history.ndjson file; `legacy`: a history.json (one JSON list) it replaces, read once. */
  constructor(path: string, legacy: string) {
    this.#path = path;
    this.#legacy = legacy;
  }

  read(): DeployRecord[] {
    this.#adoptLegacy();
    if (!existsSync(this.#path)) return [];
    const text = readFileSync(this.#path, "utf8");
    const lines = text.split("\n");
    lines.pop(); // "" after the last newline, else a line a crash cut short: never counted
    const byId = new Map<string, DeployRecord>();
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      const record = parseLine(line);
      if (!record) {
        throw new CutoverError(
          "STATE_CORRUPT",
          `${this.#path} line ${index + 1} is not a deploy record; move the file away and run \`cutover up\` again`,
        );
      }
      byId.delete(record.id);
      byId.set(record.id, record);
    });
    return [...byId.values()];
  }

  append(record: DeployRecord): void {
    this.#adoptLegacy();
    const created = !existsSync(this.#path);
    const fd = openSync(this.#path, "a+", 0o644);
    try {
      const start = endOfLastLine(fd);
      if (start < fstatSync(fd).size) ftruncateSync(fd, start); // a line a crash cut short
      try {
        // A nearly full disk may take part of a write without an error; the rest then fails (ENOSPC).
        const line = Buffer.from(`${JSON.stringify(record)}\n`);
        for (let written = 0; written < line.length; ) written += writeSync(fd, line, written);
        fsyncSync(fd);
      } catch (error) {
        try {
          ftruncateSync(fd, start);
        } catch {
          // the next append cuts it off
        }
        throw error;
      }
    } finally {
      closeSync(fd);
    }
    if (created) syncFolder(this.#path);
  }

  /** A history.json from before: becomes history.ndjson (written whole first), then goes. */
  #adoptLegacy(): void {
    if (!existsSync(this.#legacy)) return;
    if (!existsSync(this.#path)) {
      let records: unknown;
      try {
        records = JSON.parse(readFileSync(this.#legacy, "utf8"));
      } catch (error) {
        records = error;
      }
      if (!Array.isArray(records)) {
        throw new CutoverError(
          "STATE_CORRUPT",
          `${this.#legacy} is not a list of deploys; move it away and run \`cutover up\` again`,
        );
      }
      writeFileAtomic(this.#path, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    }
    unlinkSync(this.#legacy);
    syncFolder(this.#path);
  }
}

function parseLine(line: string): DeployRecord | null {
  try {
    const value = JSON.parse(line) as Partial<DeployRecord> | null;
    return value && typeof value.id === "string" && Array.isArray(value.steps)
      ? (value as DeployRecord)
      : null;
  } catch {
    return null;
  }
}

/** The offset just after the file's last newline (0 when it has none). */
function endOfLastLine(fd: number): number {
  const size = fstatSync(fd).size;
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const read = readSync(fd, chunk, 0, end - start, start);
    const at = chunk.subarray(0, read).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

function syncFolder(path: string): void {
  const folder = openSync(dirname(path), "r");
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}
