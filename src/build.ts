import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** Which cutover this process runs: package.json's version and the folder it is installed in. */
export interface Build {
  readonly version: string;
  readonly installDir: string;
  /** "0.1.0 /usr/lib/node_modules/cutover": two processes of one install and version have the same id. */
  readonly id: string;
}

let build: Build | null = null;

/** This process's build: package.json is two folders above dist/src/build.js (one above src/build.ts under tsx). */
export function cutoverBuild(): Build {
  if (build) return build;
  for (const path of ["../../package.json", "../package.json"]) {
    const url = new URL(path, import.meta.url);
    try {
      const pkg = JSON.parse(readFileSync(url, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "cutover" && pkg.version) {
        const installDir = dirname(fileURLToPath(url));
        build = { version: pkg.version, installDir, id: `${pkg.version} ${installDir}` };
        return build;
      }
    } catch {
      // Not here: the other layout.
    }
  }
  build = { version: "unknown", installDir: "unknown", id: "unknown" };
  return build;
}
