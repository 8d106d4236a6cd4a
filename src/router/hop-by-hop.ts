/**
 * Headers that describe one connection rather than the message. A proxy never forwards them
 * (RFC 9110 section 7.6.1), nor any header a Connection header names.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** True for a lower-case header name that must not cross the proxy: hop-by-hop, "Proxy" or "Proxy-*". */
export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName) || lowerName === "proxy" || lowerName.startsWith("proxy-");
}

/**
 * The header names listed in the Connection headers of a flat [name, value, ...] list, lower case,
 * or null when there are none beyond the usual close / keep-alive / upgrade.
 */
export function connectionListed(raw: readonly string[]): ReadonlySet<string> | null {
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    for (const token of (raw[i + 1] as string).split(",")) {
      const lower = token.trim().toLowerCase();
      if (lower === "" || lower === "close" || lower === "keep-alive" || lower === "upgrade") continue;
      listed ??= new Set();
      listed.add(lower);
    }
  }
  return listed;
}
