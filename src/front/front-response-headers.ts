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
