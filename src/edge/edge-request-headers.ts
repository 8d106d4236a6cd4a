import type { IncomingMessage } from "node:http";
import { requestHeaders } from "../router/request-headers.js";

/**
 * The headers the edge sends a service's router: as the router's own (hop-by-hop dropped, Host kept,
 * X-Forwarded-For appended), except that X-Forwarded-Proto and X-Forwarded-Host are the edge's view, whatever
 * the client sent: nothing stands in front of the edge, so a client's own are not to be believed. The
 * router keeps them as they arrive, and the service sees the scheme and host its users used.
 */
export function edgeRequestHeaders(req: IncomingMessage, upgrade: boolean): string[] {
  const forwarded = requestHeaders(req, req.socket.remoteAddress ?? "", upgrade);
  const out: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < forwarded.length; i += 2) {
    const name = forwarded[i] as string;
    const lower = name.toLowerCase();
    if (lower === "x-forwarded-proto" || lower === "x-forwarded-host") continue;
    if (lower === "host") host = forwarded[i + 1];
    out.push(name, forwarded[i + 1] as string);
  }
  out.push("x-forwarded-proto", (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http");
  if (host !== undefined) out.push("x-forwarded-host", host);
  return out;
}
