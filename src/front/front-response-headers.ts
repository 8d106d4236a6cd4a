import { validateHeaderName, validateHeaderValue } from "node:http";
import { connectionListed, isHopByHop } from "../router/hop-by-hop.js";

/** The response header that names the region that answered. */
export const REGION_HEADER = "x-cutover-region";

/**
 * A target's answer headers for the client, as a flat [name, value, ...] list: hop-by-hop headers (and those
 * its Connection header names) dropped, `header` (x-cutover-region unless told) set to the target's name. The
 * target's own x-cutover-colour goes through.
 */
export function frontResponseHeaders(
  raw: readonly Buffer[],
  region: string,
  header = REGION_HEADER,
): string[] {
  const strings = raw.map((value) => value.toString("latin1"));
  const listed = connectionListed(strings);
  const kept = (name: string): boolean => {
    const lower = name.toLowerCase();
    return !isHopByHop(lower) && lower !== header && listed?.has(lower) !== true;
  };
  const out: string[] = [];
  for (let i = 0; i < strings.length; i += 2)
    if (kept(strings[i] as string)) out.push(strings[i] as string, strings[i + 1] as string);
  out.push(header, region);
  return out;
}

/** Fields a trailer section may not carry, or that HTTP/2 refuses in one (it would reset the stream). */
const NOT_IN_TRAILERS: ReadonlySet<string> = new Set(["host", "content-length", "http2-settings"]);

/**
 * A target's trailers (undici's flat [name, value, ...] list: typed as strings, raw bytes over HTTP/1.1) as
 * res.addTrailers takes them, lower case, hop-by-hop and framing fields dropped, as is any field Node would
 * refuse to send; null when none is left.
 */
export function frontTrailers(raw: readonly (Buffer | string)[] | null): Record<string, string[]> | null {
  if (raw === null || raw.length === 0) return null;
  const text = (field: Buffer | string): string =>
    typeof field === "string" ? field : field.toString("latin1");
  let out: Record<string, string[]> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = text(raw[i] as Buffer | string).toLowerCase();
    const value = text(raw[i + 1] as Buffer | string);
    if (isHopByHop(name) || NOT_IN_TRAILERS.has(name) || !sendable(name, value)) continue;
    // No prototype: a field named __proto__ is a field like any other.
    out ??= Object.create(null) as Record<string, string[]>;
    out[name] = [...(out[name] ?? []), value];
  }
  return out;
}

function sendable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}
