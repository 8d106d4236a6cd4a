import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";

/** Where reports go: analysis.report.dir (relative to cutover.yaml), else <stateDir>/reports. */
export function attachedReportDir(loaded: LoadedConfig): string {
  const dir = loaded.config.analysis?.report.dir ?? null;
  return dir === null ? resolve(loaded.stateDir, "reports") : resolve(loaded.dir, dir);
}

/** The newest report's HTML file, for `cutover status`; null when none has been written. */
export function latestReport(loaded: LoadedConfig): string | null {
  const dir = attachedReportDir(loaded);
  if (!existsSync(dir)) return null;
  let latest: { path: string; mtime: number } | null = null;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".html")) continue;
    const path = join(dir, name);
    const mtime = statSync(path).mtimeMs;
    if (latest === null || mtime > latest.mtime) latest = { path, mtime };
  }
  return latest?.path ?? null;
}
