import { closeSync, fstatSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";

/** How a log file is kept from filling the disk: rotated past `maxBytes`, `keep` older files kept. */
export interface LogRotation {
  readonly maxBytes: number;
  readonly keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/**
 * Renames `path` to `path.1`, `path.1` to `path.2`, ... and drops what would be `path.<keep+1>`. Once a file is
 * renamed, whoever still has it open writes on into the renamed file: nothing written is lost.
 */
export function rotateFiles(path: string, keep: number): void {
  rmSync(`${path}.${keep}`, { force: true });
  for (let n = keep - 1; n >= 1; n--) {
    try {
      renameSync(`${path}.${n}`, `${path}.${n + 1}`);
    } catch {
      // no such file yet
    }
  }
  try {
    renameSync(path, keep >= 1 ? `${path}.1` : `${path}.old`);
    if (keep < 1) rmSync(`${path}.old`, { force: true });
  } catch {
    // no such file yet
  }
}

/** Rotates `path` now if it is already at or over `maxBytes` (before a process that appends to it starts). */
export function rotateIfFull(path: string, rotation: LogRotation): void {
  try {
    if (statSync(path).size >= rotation.maxBytes) rotateFiles(path, rotation.keep);
  } catch {
    // no file yet
  }
}

/**
 * An append-only log file that rotates itself by size. Writes are synchronous and split only between lines:
 * a file holds whole lines, at most `maxBytes` of them (a single longer line gets a file of its own; a
 * chunk's last line without its newline yet is written as it is). Other processes may append to the same path (by opening it each time);
 * the size is read from the file, so their lines count too.
 */
export class RotatingLog {
  readonly #path: string;
  readonly #rotation: LogRotation;
  #fd: number | null = null;

  constructor(path: string, rotation: LogRotation) {
    this.#path = path;
    this.#rotation = rotation;
  }

  get path(): string {
    return this.#path;
  }

  write(chunk: string | Uint8Array): void {
    let data =
      typeof chunk === "string"
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    while (data.length > 0) {
      const fd = this.#open();
      const size = fstatSync(fd).size;
      const room = this.#rotation.maxBytes - size;
      if (data.length <= room) {
        writeAll(fd, data);
        return;
      }
      // Whole lines only: as many as fit, then a new file for the rest.
      const fits = room > 0 ? data.lastIndexOf(10, room - 1) : -1;
      if (fits >= 0) {
        writeAll(fd, data.subarray(0, fits + 1));
        data = data.subarray(fits + 1);
      } else if (size === 0) {
        // One line longer than maxBytes: it gets a file of its own.
        const end = data.indexOf(10);
        const line = end < 0 ? data : data.subarray(0, end + 1);
        writeAll(fd, line);
        data = data.subarray(line.length);
        if (data.length === 0) return;
      }
      this.#close();
      rotateFiles(this.#path, this.#rotation.keep);
    }
  }

  close(): void {
    this.#close();
  }

  #open(): number {
    if (this.#fd === null) {
      this.#fd = openSync(this.#path, "a");
      return this.#fd;
    }
    // Renamed away by someone else (another rotation): append to the file at the path again.
    try {
      if (statSync(this.#path).ino === fstatSync(this.#fd).ino) return this.#fd;
    } catch {
      // gone: reopen below
    }
    this.#close();
    this.#fd = openSync(this.#path, "a");
    return this.#fd;
  }

  #close(): void {
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = null;
  }
}

function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written);
}
