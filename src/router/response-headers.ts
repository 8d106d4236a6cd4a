import type { Colour } from "../colour.js";
import { connectionListed, isHopByHop } from "./hop-by-hop.js";

/** The response header that names the colour that answered; the verify drill and tests read it. */
export const COLOUR_HEADER = "x-cutover-colour";

/**
 * The headers sent to the client for an upstream answer, as a flat [name, value, ...] list for
 * `res.writeHead`: hop-by-hop headers dropped, x-cutover-colour set to `colour`.
 */
export function responseHeaders(raw: readonly Buffer[], colour: Colour): string[] {
  const strings = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) strings[i] = (raw[i] as Buffer).toString("latin1");
  const listed = connectionListed(strings);
  const out: string[] = [];
  for (let i = 0; i < strings.length; i += 2) {
    const name = strings[i] as string;
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || lower === COLOUR_HEADER || listed?.has(lower)) continue;
    out.push(name, strings[i + 1] as string);
  }
  out.push(COLOUR_HEADER, colour);
  return out;
}

/** The Content-Length of a flat [name, value, ...] header list; -1 when it has none (or not a plain number). */
export function contentLength(headers: readonly string[]): number {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.length !== 14 || name.toLowerCase() !== "content-length") continue;
    const value = headers[i + 1] as string;
    return /^\d+$/.test(value) ? Number(value) : -1;
  }
  return -1;
}
