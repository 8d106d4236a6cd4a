import type { IncomingMessage } from "node:http";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { Colour } from "../colour.js";
import { isHopByHop } from "./hop-by-hop.js";
import { requestHeaders } from "./request-headers.js";
import { COLOUR_HEADER } from "./response-headers.js";

/**
 * The header fields of a request sent to an h2c replica: those requestHeaders() forwards over HTTP/1.1
 * (hop-by-hop dropped, X-Forwarded-* set), lower case, Host as :authority, repeated names as arrays. TE is
 * hop-by-hop, but "TE: trailers" is the one value HTTP/2 allows and gRPC servers expect, so it is kept.
 */
export function h2cRequestHeaders(req: IncomingMessage, clientIp: string): OutgoingHttpHeaders {
  const list = requestHeaders(req, clientIp, false);
  const headers: OutgoingHttpHeaders = {
    ":method": req.method ?? "GET",
    ":path": req.url ?? "/",
    ":scheme": "http",
  };
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    if (name === "host") headers[":authority"] = value;
    // HTTP/1.1's upgrade to HTTP/2; Node refuses it in an HTTP/2 request.
    else if (name === "http2-settings") continue;
    else appendField(headers, name, value);
  }
  if (asksForTrailers(req)) headers.te = "trailers";
  return headers;
}

/** An answer's header fields for the client: pseudo-headers and hop-by-hop fields dropped, the colour added. */
export function h2cResponseHeaders(headers: IncomingHttpHeaders, colour: Colour): OutgoingHttpHeaders {
  const out = forwardedFields(headers);
  out[COLOUR_HEADER] = colour;
  return out;
}

/** An answer's trailer fields (gRPC's grpc-status and grpc-message among them) for the client. */
export function h2cTrailers(trailers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return forwardedFields(trailers);
}

/** True for a gRPC request (its content-type is application/grpc, or application/grpc+proto and the like). */
export function isGrpc(req: IncomingMessage): boolean {
  return req.headers["content-type"]?.startsWith("application/grpc") === true;
}

function forwardedFields(fields: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(fields)) {
    if (name.charCodeAt(0) === 58 /* ":" */ || isHopByHop(name) || name === COLOUR_HEADER) continue;
    const value = fields[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function appendField(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const prior = headers[name];
  if (prior === undefined) headers[name] = value;
  else if (Array.isArray(prior)) prior.push(value);
  else headers[name] = [String(prior), value];
}

function asksForTrailers(req: IncomingMessage): boolean {
  const te = req.headers.te;
  if (te === undefined) return false;
  return String(te)
    .split(",")
    .some((token) => token.trim().toLowerCase() === "trailers");
}
