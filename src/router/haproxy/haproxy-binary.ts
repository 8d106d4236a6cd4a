import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { CutoverError } from "../../errors.js";

/** The oldest HAProxy with everything cutover uses (http-after-response, http-error, server-template). */
export const MIN_HAPROXY_VERSION = [2, 2] as const;

/** No HAProxy binary where cutover looked. */
export class HaproxyNotInstalledError extends CutoverError {
  constructor(binary: string) {
    super(
      "HAPROXY_NOT_INSTALLED",
      `HAProxy is not installed (no executable "${binary}" on PATH or in /usr/sbin); install it (Debian/Ubuntu: \`apt-get install -y haproxy\`, 2.6 or newer) or give the path to its binary`,
    );
    this.name = "HaproxyNotInstalledError";
  }
}

/** The HAProxy found is older than cutover needs. */
export class HaproxyTooOldError extends CutoverError {
  constructor(binary: string, version: string) {
    super(
      "HAPROXY_TOO_OLD",
      `${binary} is HAProxy ${version}; cutover needs ${MIN_HAPROXY_VERSION.join(".")} or newer (it is tested with 2.6): upgrade it`,
    );
    this.name = "HaproxyTooOldError";
  }
}

export interface HaproxyBinary {
  readonly path: string;
  /** "2.6.12-1+deb12u4" */
  readonly version: string;
}

const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The absolute path of `name` (a path is checked as it is), or null when there is no such executable. */
export function whichExecutable(name: string): string | null {
  const candidates = name.includes("/")
    ? [name]
    : [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...SBIN].map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Finds HAProxy and checks its version; throws a typed error that says what to install. */
export function findHaproxy(name = "haproxy"): HaproxyBinary {
  const path = whichExecutable(name);
  if (path === null) throw new HaproxyNotInstalledError(name);
  const banner = execFileSync(path, ["-v"], { encoding: "utf8" });
  const version = /HAProxy version (\S+)/.exec(banner)?.[1] ?? "unknown";
  const [major = 0, minor = 0] = version.split(/[.-]/).map(Number);
  const [needMajor, needMinor] = MIN_HAPROXY_VERSION;
  if (major < needMajor || (major === needMajor && minor < needMinor))
    throw new HaproxyTooOldError(path, version);
  return { path, version };
}
