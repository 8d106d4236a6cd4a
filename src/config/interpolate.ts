/**
 * `${VAR}` and `${VAR:-default}` in cutover.yaml's string values, read from the environment when the config
 * is loaded; `$${` writes a literal `${`. Only values are interpolated (never keys), after YAML parsing and
 * before validation. What was read from the environment is remembered, so `redactSecrets` can put the
 * `${VAR}` back into any text cutover writes or logs: a resolved value never reaches a file or a log line.
 */
import type { ResolvedSecret } from "../secrets.js";

export {
  containsSecret,
  forgetSecrets,
  hasSecrets,
  type ResolvedSecret,
  redactSecrets,
  redactStandardStreams,
  rememberSecrets,
  writeUnredacted,
} from "../secrets.js";

export interface Interpolated {
  /** The parsed YAML with every `${...}` in a string value replaced. */
  readonly value: unknown;
  /** The values read from the environment (non-empty, at least MIN_SECRET_LENGTH characters). */
  readonly secrets: readonly ResolvedSecret[];
  /** One line per variable that is not set and has no default, naming the field. */
  readonly problems: readonly string[];
}

/** Shorter values (a port, "true") would turn unrelated text into `${VAR}`; they are not redacted. */
export const MIN_SECRET_LENGTH = 4;

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Fields that name things and are written everywhere by design (state, history, reports): not secrets. */
const NAMING = new Set(["service", "version"]);

/** Replaces `${...}` in every string value of `raw` (keys stay as written). */
export function interpolateEnv(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Interpolated {
  const secrets: ResolvedSecret[] = [];
  const problems: string[] = [];

  const text = (input: string, path: string): string =>
    input.replace(REFERENCE, (whole, escaped: string, inner: string) => {
      if (escaped) return whole.slice(1); // $${X} is the literal ${X}
      const dash = inner.indexOf(":-");
      const name = dash === -1 ? inner : inner.slice(0, dash);
      if (!NAME.test(name)) {
        problems.push(
          `${path}: ${whole} is not a variable reference (expected \${NAME} or \${NAME:-default}; write $\${ for a literal \${)`,
        );
        return whole;
      }
      const set = env[name];
      // As in the shell, `:-` also stands in for a variable that is set but empty.
      const value =
        set !== undefined && (dash === -1 || set !== "")
          ? set
          : dash === -1
            ? undefined
            : inner.slice(dash + 2);
      if (value === undefined) {
        problems.push(
          `${path}: \${${name}} is not set in the environment; set it, give a default (\${${name}:-default}), or write $\${${name}} to leave it to the shell`,
        );
        return whole;
      }
      if (value === set && value.length >= MIN_SECRET_LENGTH && !NAMING.has(path))
        secrets.push({ name, value });
      return value;
    });

  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === "string") return value.includes("$") ? text(value, path || "(top level)") : value;
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, walk(item, path ? `${path}.${key}` : key)]),
      );
    }
    return value;
  };

  return { value: walk(raw, ""), secrets, problems };
}
