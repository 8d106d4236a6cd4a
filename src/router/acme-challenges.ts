import type { IncomingMessage, ServerResponse } from "node:http";

/** Where an ACME CA fetches an http-01 challenge's answer (RFC 8555, section 8.3). */
export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

/**
 * The http-01 challenges of the orders in progress: token -> key authorization. The router's plain HTTP
 * listener (tls.redirectHttp, port 80 to the world) answers the CA's requests for them from here.
 */
export class AcmeChallenges {
  readonly #answers = new Map<string, string>();

  add(token: string, keyAuthorization: string): void {
    this.#answers.set(token, keyAuthorization);
  }

  remove(token: string): void {
    this.#answers.delete(token);
  }

  /**
   * Answers a request on the challenge path: the key authorization for a known token, 404 for another
   * (never a redirect: the CA would follow it to the HTTPS listener, which may have no certificate yet).
   * False for any other path, which the caller answers.
   */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? "").split("?")[0] as string;
    if (!path.startsWith(ACME_CHALLENGE_PATH)) return false;
    const answer = this.#answers.get(path.slice(ACME_CHALLENGE_PATH.length));
    const body = answer ?? "no such challenge\n";
    res.writeHead(answer === undefined ? 404 : 200, {
      "content-type": "text/plain",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }
}
