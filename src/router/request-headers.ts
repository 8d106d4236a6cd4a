import type { IncomingMessage } from "node:http";
import { connectionListed, isHopByHop } from "./hop-by-hop.js";

/**
 * The headers sent upstream for `req`, as a flat [name, value, ...] list: hop-by-hop headers and
 * Expect dropped (undici refuses them), Host passed through, X-Forwarded-For appended with the
 * client address. X-Forwarded-Proto and X-Forwarded-Host are set when no proxy in front set them.
 * For an upgrade (WebSocket) the Connection and Upgrade headers are put back.
 */
export function requestHeaders(req: IncomingMessage, clientIp: string, upgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(raw);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  let hasProto = false;
  let hasForwardedHost = false;
  let upgradeTo: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower.charCodeAt(0) === 58 /* ":" */) {
      // HTTP/2's pseudo-headers: :authority is the Host of HTTP/1.1; the others are in the request line.
      if (lower === ":authority" && host === undefined) {
        host = value;
        out.push("host", value);
      }
      continue;
    }
    if (lower === "upgrade") upgradeTo = value;
    if (isHopByHop(lower) || lower === "expect" || listed?.has(lower)) continue;
    if (lower === "x-forwarded-for") {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (lower === "host") {
      if (host !== undefined) continue; // :authority came first (HTTP/2): one Host
      host = value;
    } else if (lower === "x-forwarded-proto") hasProto = true;
    else if (lower === "x-forwarded-host") hasForwardedHost = true;
    out.push(name, value);
  }
  if (clientIp !== "")
    out.push("x-forwarded-for", forwardedFor === undefined ? clientIp : `${forwardedFor}, ${clientIp}`);
  else if (forwardedFor !== undefined) out.push("x-forwarded-for", forwardedFor);
  if (!hasProto)
    out.push("x-forwarded-proto", (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http");
  if (!hasForwardedHost && host !== undefined) out.push("x-forwarded-host", host);
  if (upgrade && upgradeTo !== undefined) out.push("connection", "upgrade", "upgrade", upgradeTo);
  return out;
}
