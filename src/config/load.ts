import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { platformMisfits } from "./platform-fit.js";
import { type Config, configSchema } from "./schema.js";

export const CONFIG_FILE = "cutover.yaml";

/** A validated config and where it came from; relative paths in it resolve against `dir`. */
export interface LoadedConfig {
  readonly file: string;
  readonly dir: string;
  readonly config: Config;
  readonly stateDir: string;
}

export function loadConfig(file: string): LoadedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "the file does not exist" : String(error);
    throw new ConfigError(path, [`${reason}; create one with \`cutover init\` or pass --config <file>`]);
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, path: string): LoadedConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      path,
      document.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`),
    );
  }
  const raw: unknown = document.toJS() ?? {};
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(path, result.error.issues.map(describeIssue));
  const misfits = platformMisfits(isRecord(raw) ? raw : {}, result.data);
  if (misfits.length > 0) throw new ConfigError(path, misfits);
  const dir = dirname(path);
  return { file: path, dir, config: result.data, stateDir: resolve(dir, result.data.stateDir) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length === 0 ? "(top level)" : issue.path.map(String).join(".");
  const got = "input" in issue ? `; got ${JSON.stringify(issue.input) ?? "nothing"}` : "";
  if (issue.code === "unrecognized_keys") {
    return `${field === "(top level)" ? "" : `${field}: `}unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling (see \`cutover schema\`)`;
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return `${field}: is required (${issue.message.replace(/, received undefined$/, "")})`;
  }
  return `${field}: ${issue.message}${got}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
