import type { IncomingMessage, ServerResponse } from "node:http";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from "node:http2";
import type { Logger } from "pino";
import type { TlsCertificates } from "./tls-certificates.js";

/**
 * An HTTPS server as the router's (HTTP/2 for clients that offer it by ALPN, HTTP/1.1 and its upgrades for
 * the others), with a certificate per host name chosen by SNI, reloaded for new connections when its files
 * change. The router's main listener and `cutover edge`'s HTTPS listener are both this server.
 */
export function createTlsServer(
  tls: TlsCertificates,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  logger: Logger,
): Http2SecureServer {
  const server = createSecureServer(
    { ...tls.defaultOptions, SNICallback: tls.sni, allowHTTP1: true },
    // The compatibility API's request and response stand in for node:http's, as the exchange uses them.
    handle as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  // New connections get the reloaded certificates; open ones keep the context they were made with.
  tls.onReload((options) => server.setSecureContext(options));
  // A client that fails the handshake (an old protocol, a weak suite only) is no error of ours.
  server.on("tlsClientError", (error) => logger.debug({ err: error.message }, "TLS handshake refused"));
  return server;
}
