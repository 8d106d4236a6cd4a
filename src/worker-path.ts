import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where a worker thread's compiled script is: beside the calling module in dist/, or dist/'s copy when the
 * caller runs from its TypeScript sources (tests). `srcPath` is the worker's path under src/, e.g.
 * "router/mirror-worker.js"; `callerUrl` is the caller's import.meta.url.
 */
export function compiledWorker(callerUrl: string, srcPath: string): string {
  const name = srcPath.slice(srcPath.lastIndexOf("/") + 1);
  const candidates = [
    fileURLToPath(new URL(`./${name}`, callerUrl)),
    fileURLToPath(new URL(`../dist/src/${srcPath}`, import.meta.url)),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found)
    throw new Error(
      `the worker ${srcPath} is not built (looked for ${candidates.join(", ")}); run \`npm run build\``,
    );
  return found;
}
