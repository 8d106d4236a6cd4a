/** Why a request got no HTTP answer, in the words a person reading a drill report uses. */
export const ERROR_KINDS = ["reset", "timeout", "refused", "other"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

const RESET: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const TIMEOUT: ReadonlySet<string> = new Set([
  "timeout",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const REFUSED: ReadonlySet<string> = new Set(["ECONNREFUSED"]);

/** The kind of a socket or undici error code (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, ...). */
export function errorKindOf(code: string): ErrorKind {
  if (RESET.has(code)) return "reset";
  if (TIMEOUT.has(code)) return "timeout";
  if (REFUSED.has(code)) return "refused";
  return "other";
}
