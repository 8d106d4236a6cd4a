import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Replaces `path` with `content` so that a reader (or a restart after a crash) sees either the old file
 * or the new one whole: write a temporary file, fsync it, rename it over the old one, fsync the folder.
 * Errors are thrown, never dropped.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w", mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const folder = openSync(dirname(path), "r");
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}
