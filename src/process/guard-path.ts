import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where the compiled replica guard is. Beside this module when it runs from dist/; when it runs from the
 * TypeScript sources (tests, tsx), the copy that `tsc -p tsconfig.json` put in dist/.
 */
export function guardScriptPath(): string {
  const candidates = [
    fileURLToPath(new URL("./replica-guard.js", import.meta.url)),
    fileURLToPath(new URL("../../dist/src/process/replica-guard.js", import.meta.url)),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new Error(
      `the replica guard is not built (looked for ${candidates.join(", ")}); run \`npm run build\``,
    );
  }
  return found;
}
