import { connectionListed, isHopByHop } from "../router/hop-by-hop.js";

/** The response header that names the region that answered. */
export const REGION_HEADER = "x-cutover-region";

/**
 * A region's answer headers for the client, as a flat [name, value, ...] list: hop-by-hop headers (and those
 * its Connection header names) dropped, x-cutover-region set. The region's own x-cutover-colour goes through.
 */
export function frontResponseHeaders(raw: readonly Buffer[], region: string): string[] {
  const strings = raw.map((value) => value.toString("latin1"));
  const listed = connectionListed(strings);
  const kept = (name: string): boolean => {
    const lower = name.toLowerCase();
    return !isHopByHop(lower) && lower !== REGION_HEADER && listed?.has(lower) !== true;
  };
  const out: string[] = [];
  for (let i = 0; i < strings.length; i += 2)
    if (kept(strings[i] as string)) out.push(strings[i] as string, strings[i + 1] as string);
  out.push(REGION_HEADER, region);
  return out;
}
