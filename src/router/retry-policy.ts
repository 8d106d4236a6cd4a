import type { IncomingMessage } from "node:http";

/** Which requests the router may send a second time when the connection to their replica broke. */
export interface RetryPolicy {
  /**
   * A request carrying this header (lower case) is retried whatever its method, as the client says sending
   * it twice is safe (the IETF's Idempotency-Key); null: only safe methods are.
   */
  readonly idempotencyHeader: string | null;
  /** The largest body of a marked request that is kept to be sent again; a larger or chunked one is not retried. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_RETRY: RetryPolicy = { idempotencyHeader: "idempotency-key", maxBodyBytes: 64 * 1024 };

/** Safe methods (RFC 9110, 9.2.1): sending them twice changes nothing on the server. */
const SAFE: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string | undefined): boolean {
  return SAFE.has(method ?? "");
}

/**
 * True when the client marked the request as safe to send twice. Reads rawHeaders, as the exchange does:
 * `req.headers` would build an object for every request.
 */
export function markedIdempotent(req: IncomingMessage, policy: RetryPolicy): boolean {
  const wanted = policy.idempotencyHeader;
  if (wanted === null) return false;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === wanted.length && name.toLowerCase() === wanted) return true;
  }
  return false;
}

/**
 * The body length a request declares: 0 without a body, -1 for a chunked one (or a Content-Length that is
 * not a plain number), else its Content-Length.
 */
export function declaredBodyLength(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  // HTTP/2 has no chunked encoding: a body without Content-Length is known only by its stream not ending
  // with the headers.
  let length =
    req.httpVersionMajor === 2 && !(req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders
      ? -1
      : 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return -1;
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      const value = (raw[i + 1] as string).trim();
      length = /^\d+$/.test(value) ? Number(value) : -1;
    }
  }
  return length;
}
