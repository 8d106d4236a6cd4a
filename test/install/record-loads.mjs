// `node --import ./record-loads.mjs ...`: appends the URL of every module the process loads to the file
// named by RECORD_LOADS_TO, one a line: ES modules (and CommonJS ones they import) through a load hook,
// CommonJS modules required from CommonJS through require.cache when the process exits.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

const out = process.env.RECORD_LOADS_TO;
if (out) {
  register(new URL("./record-loads-hooks.mjs", import.meta.url), { data: { out } });
  const { cache } = createRequire(import.meta.url);
  process.on("exit", () => {
    appendFileSync(
      out,
      Object.keys(cache)
        .map((path) => `${pathToFileURL(path).href}\n`)
        .join(""),
    );
  });
}
