import type { Colour } from "../colour.js";
import { connectionListed, isHopByHop } from "./hop-by-hop.js";

/** The response header that names the colour that answered; the verify drill and tests read it. */
export const COLOUR_HEADER = "x-cutover-colour";

/**
 * The headers sent to the client for an upstream answer, as a flat [name, value, ...] list for
 * `res.writeHead`: hop-by-hop headers dropped, x-cutover-colour set to `colour`. Each name and value is
 * decoded once, straight into the list (the Connection header, rare beyond close and keep-alive, first).
 */
export function responseHeaders(raw: readonly Buffer[], colour: Colour): string[] {
  const listed = connectionListedRaw(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString("latin1");
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || lower === COLOUR_HEADER || listed?.has(lower)) continue;
    out.push(name, (raw[i + 1] as Buffer).toString("latin1"));
  }
  out.push(COLOUR_HEADER, colour);
  return out;
}

/** connectionListed() of raw header buffers, decoding only the names as long as "connection" and their values. */
function connectionListedRaw(raw: readonly Buffer[]): ReadonlySet<string> | null {
  let connection: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as Buffer;
    if (name.length !== 10) continue;
    const text = name.toString("latin1");
    if (text.toLowerCase() !== "connection") continue;
    connection ??= [];
    connection.push(text, (raw[i + 1] as Buffer).toString("latin1"));
  }
  return connection === null ? null : connectionListed(connection);
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
