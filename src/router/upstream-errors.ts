import type { ProxyFailure } from "./proxy-failure.js";

/** Errors that prove the request never reached the replica: safe to send again, whatever the method. */
const NEVER_SENT: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  // HTTP/2 (h2c): a stream cancelled while it waited for its session, a session that took no new streams,
  // a stream the replica refused (RFC 9113, 8.7: not processed), a session that did not connect in time.
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "H2C_REFUSED_STREAM",
  "H2C_CONNECT_TIMEOUT",
]);

/** Errors of a connection that broke under the request, e.g. a keep-alive connection closed by the replica. */
const CONNECTION_LOST: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  // HTTP/2 (h2c): the replica reset the stream or the session, or the stream ended without its whole answer.
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_SESSION_ERROR",
  "H2C_STREAM_CLOSED",
]);

const TIMEOUTS: ReadonlySet<string> = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
  "H2C_CONNECT_TIMEOUT",
  "H2C_HEADERS_TIMEOUT",
  "H2C_BODY_TIMEOUT",
]);

const INVALID_REQUEST: ReadonlySet<string> = new Set([
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  // Header fields Node's HTTP/2 client refuses to send.
  "ERR_HTTP2_INVALID_HEADER_VALUE",
  "ERR_HTTP2_HEADER_SINGLE_VALUE",
  "ERR_HTTP2_INVALID_CONNECTION_HEADERS",
  "ERR_HTTP2_INVALID_PSEUDOHEADER",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_INVALID_CHAR",
]);

/**
 * Why a request's upstream failed, as counted in cutover_upstream_failures_total: connect (the connection
 * could not be had, the request never left), reset (the connection broke under it), timeout, bad-response (an
 * answer head that is not valid HTTP), other.
 */
export const UPSTREAM_FAILURE_REASONS = ["connect", "reset", "timeout", "bad-response", "other"] as const;
export type UpstreamFailureReason = (typeof UPSTREAM_FAILURE_REASONS)[number];

export function reasonOf(error: Error): UpstreamFailureReason {
  const code = codeOf(error);
  if (NEVER_SENT.has(code) && !TIMEOUTS.has(code)) return "connect";
  if (CONNECTION_LOST.has(code)) return "reset";
  if (TIMEOUTS.has(code)) return "timeout";
  return "other";
}

function codeOf(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === "string" ? code : "";
}

/** True when the request certainly did not reach the replica. */
export function neverSent(error: Error): boolean {
  return NEVER_SENT.has(codeOf(error));
}

/** True when the connection failed (refused, reset, closed) rather than the replica answering badly or slowly. */
export function connectionFailed(error: Error): boolean {
  const code = codeOf(error);
  return NEVER_SENT.has(code) || CONNECTION_LOST.has(code);
}

/** How the router answers a request whose upstream failed before the response head. */
export function failureFor(error: Error): ProxyFailure {
  const code = codeOf(error);
  if (TIMEOUTS.has(code)) return "upstream-timeout";
  if (INVALID_REQUEST.has(code)) return "bad-request";
  return "upstream-failed";
}

/**
 * A short word on what went wrong, for the JSON body the client sees: the error code, never the
 * replica's address; the message only for a request undici refused to send.
 */
export function describeError(error: Error): string {
  const code = codeOf(error);
  if (INVALID_REQUEST.has(code)) return error.message;
  return code === "" ? "upstream error" : code;
}
