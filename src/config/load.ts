import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { fleetMisfits } from "./fleet-fit.js";
import { interpolateEnv, redactSecrets, rememberSecrets } from "./interpolate.js";
import { platformMisfits } from "./platform-fit.js";
import { type Config, configSchema } from "./schema.js";

export const CONFIG_FILE = "cutover.yaml";
/** Names the config file when no --config is given. */
export const CONFIG_ENV = "CUTOVER_CONFIG";

/**
 * Which config file a command uses: --config if given, else $CUTOVER_CONFIG, else the first cutover.yaml
 * found in the working directory or above it (up to the filesystem root). The state folder stays beside
 * the file found, so `cutover status` works from any subfolder of a service.
 */
export function findConfigFile(
  flag: string | undefined,
  options: { cwd?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (flag) return resolve(cwd, flag);
  const named = env[CONFIG_ENV];
  if (named) return resolve(cwd, named);
  const looked: string[] = [];
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_FILE);
    looked.push(dir);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    if (dirname(dir) === dir) break;
  }
  const shown = looked.length > 4 ? [...looked.slice(0, 3), "…", looked[looked.length - 1]] : looked;
  throw new ConfigError(join(resolve(cwd), CONFIG_FILE), [
    `no ${CONFIG_FILE} in ${shown.join(", ")} (searched from the working directory up to the root); create one with \`cutover init\`, or name one with --config <file> or ${CONFIG_ENV}`,
  ]);
}

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

export function parseConfig(
  text: string,
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LoadedConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      path,
      document.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`),
    );
  }
  // ${VAR} in values, after parsing (so a value cannot change the YAML's structure) and before validation.
  const interpolated = interpolateEnv(document.toJS() ?? {}, env);
  if (interpolated.problems.length > 0) throw new ConfigError(path, interpolated.problems);
  const raw: unknown = interpolated.value;
  // Remembered before validation, so that even a refused value is shown as its ${VAR}.
  rememberSecrets(interpolated.secrets);
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success)
    throw new ConfigError(
      path,
      result.error.issues.map((issue) => redactSecrets(describeIssue(issue))),
    );
  const misfits = [...platformMisfits(isRecord(raw) ? raw : {}, result.data), ...fleetMisfits(result.data)];
  if (misfits.length > 0) throw new ConfigError(path, misfits.map(redactSecrets));
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
