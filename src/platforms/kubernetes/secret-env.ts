/**
 * Which environment values must never be plain values in a Deployment, and what a Secret holds instead.
 * DATABASE_URL always goes to a Secret; so does any value that is a URL with a password in it (a safety net
 * for REDIS_URL and the like). A PostgreSQL URL goes without its `options` parameter: that carries the
 * colour's search_path, which would make one Secret per colour, so the options move to PGOPTIONS, which
 * node-postgres and libpq read when the URL has none. The Secret then holds the same URL for both colours.
 */
import { containsSecret } from "../../secrets.js";

export const DATABASE_URL = "DATABASE_URL";
export const PGOPTIONS = "PGOPTIONS";

export interface SecretEnv {
  /** Entries that stay plain values; PGOPTIONS gains the options taken out of URLs, ahead of its own. */
  readonly plain: Readonly<Record<string, string>>;
  /** Entries that go to a Secret: the variable's name and the value the Secret holds. */
  readonly secret: Readonly<Record<string, string>>;
}

/** Splits plain environment values into those that may stay plain and those that go to a Secret. */
export function splitSecretEnv(env: Readonly<Record<string, string>>): SecretEnv {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  const moved: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!belongsInSecret(name, value)) {
      plain[name] = value;
      continue;
    }
    const cleaned = withoutOptions(value);
    secret[name] = cleaned.url;
    if (cleaned.options) moved.push(cleaned.options);
  }
  const options = mergeOptions(moved, env[PGOPTIONS]);
  if (options) plain[PGOPTIONS] = options;
  return { plain, secret };
}

/**
 * DATABASE_URL, a value that parses as a URL with a password in its userinfo, or a value that holds a
 * secret cutover.yaml read from the environment (`${VAR}`): none of them is written into a Deployment.
 */
export function belongsInSecret(name: string, value: string): boolean {
  return name === DATABASE_URL || parseUrl(value)?.password !== undefined || containsSecret(value);
}

/** A PostgreSQL URL without its `options` parameter, and those options decoded; any other value as it is. */
export function withoutOptions(value: string): { url: string; options: string } {
  const url = parseUrl(value)?.url;
  if (!url || !/^postgres(ql)?:$/.test(url.protocol) || !url.searchParams.has("options"))
    return { url: value, options: "" };
  const options = url.searchParams.getAll("options").join(" ").trim();
  // Only the options pair goes: the rest stays byte for byte (libpq decodes no "+", so no re-encoding).
  const start = value.indexOf("?");
  const hash = value.indexOf("#", start);
  const end = hash === -1 ? value.length : hash;
  const rest = value
    .slice(start + 1, end)
    .split("&")
    .filter((pair) => pair !== "" && !new URLSearchParams(pair).has("options"));
  const query = rest.length > 0 ? `?${rest.join("&")}` : "";
  return { url: `${value.slice(0, start)}${query}${value.slice(end)}`, options };
}

/** The options taken out of URLs, then PGOPTIONS as given (later settings win); what PGOPTIONS already says is not repeated. */
function mergeOptions(moved: readonly string[], given: string | undefined): string {
  const own = given?.trim() ?? "";
  const taken = moved.map((o) => (own ? o.replaceAll(own, " ") : o).replace(/\s+/g, " ").trim());
  return [...taken, own].filter((o) => o !== "").join(" ");
}

function parseUrl(value: string): { url: URL; password: string | undefined } | null {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null;
  try {
    const url = new URL(value);
    return { url, password: url.password === "" ? undefined : url.password };
  } catch {
    return null;
  }
}
