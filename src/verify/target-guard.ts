import { isIP } from "node:net";
import { CutoverError } from "../errors.js";

/** The drill would send load somewhere it may not: only loopback, or the service's own configured address. */
export class TargetNotAllowedError extends CutoverError {
  constructor(url: string, why: string) {
    super(
      "TARGET_NOT_ALLOWED",
      `cutover verify sends load only to loopback or to the address in cutover.yaml; ${url} ${why}. Run it on the machine that serves it, against 127.0.0.1`,
    );
    this.name = "TargetNotAllowedError";
  }
}

/** 127.0.0.0/8, ::1, ::ffff:127.x.x.x and localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Checks that `url` is http(s) and a target the drill may load: loopback, or exactly one of `configured`
 * (the router's listen address from cutover.yaml). Returns the URL without path, query or credentials.
 */
export function checkLoadTarget(url: string, configured: readonly string[] = []): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CutoverError("BAD_ARGUMENT", `--url expects a URL such as http://127.0.0.1:8080, got "${url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CutoverError("BAD_ARGUMENT", `--url must be http:// or https://, got "${url}"`);
  }
  const origin = parsed.origin;
  if (isLoopbackHost(parsed.hostname)) return origin;
  if (configured.some((c) => new URL(c).origin === origin)) return origin;
  throw new TargetNotAllowedError(origin, "is neither");
}
