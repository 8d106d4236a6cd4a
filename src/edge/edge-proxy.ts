import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { FrontExchange, type FrontExchangeContext } from "../front/front-exchange.js";
import type { FrontWords } from "../front/front-target.js";
import { sendPlain } from "../front/plain-answer.js";
import type { InFlightSet } from "../router/in-flight-set.js";
import { DEFAULT_RETRY } from "../router/retry-policy.js";
import { misdirected, noPath, rawPlain } from "./edge-answers.js";
import { type EdgeMetrics, NO_SERVICE } from "./edge-metrics.js";
import { edgeRequestHeaders } from "./edge-request-headers.js";
import type { EdgeService } from "./edge-service.js";
import { EdgeTunnel } from "./edge-tunnel.js";
import { HostRoutes, type RouteMatch, requestHost, stripPrefix } from "./host-routes.js";

/** The response header that names the service that answered. */
export const SERVICE_HEADER = "x-cutover-service";

const EDGE_WORDS: FrontWords = {
  self: "the edge",
  target: "service",
  header: SERVICE_HEADER,
  unreachable: "it is not running now; retry shortly",
};

/**
 * The edge's data plane: each request (and WebSocket upgrade) goes to the one service whose hosts and path
 * prefix it matches, through the front's exchange with a route of that service alone, so no request of one
 * service is ever answered by another. A request no service takes is answered 421 (unknown host) or 404.
 */
export class EdgeProxy {
  readonly #routes: HostRoutes<EdgeService>;
  readonly #metrics: EdgeMetrics;
  readonly #inFlight: InFlightSet;
  readonly #context: FrontExchangeContext;
  #closing = false;

  constructor(services: readonly EdgeService[], metrics: EdgeMetrics, inFlight: InFlightSet) {
    this.#routes = new HostRoutes(services);
    this.#metrics = metrics;
    this.#inFlight = inFlight;
    this.#context = {
      inFlight,
      metrics,
      retry: DEFAULT_RETRY,
      words: EDGE_WORDS,
      requestHeaders: (req) => edgeRequestHeaders(req, false),
    };
  }

  /** From now on, HTTP/1.1 answers close their connection: clients open their next one elsewhere. */
  closing(): void {
    this.#closing = true;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.#closing && req.httpVersionMajor === 1) res.setHeader("connection", "close");
    const match = this.#match(req);
    if (match.kind === "service") {
      new FrontExchange(req, res, [match.service], this.#context).start();
      return;
    }
    const host = requestHost(req.headers);
    req.resume();
    if (match.kind === "no-host") {
      this.#metrics.count(NO_SERVICE, "misdirected");
      sendPlain(res, 421, misdirected(host));
    } else {
      this.#metrics.count(NO_SERVICE, "no-path");
      sendPlain(res, 404, noPath(host, req.url ?? "/"));
    }
  };

  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const match = this.#match(req);
    if (match.kind === "service") {
      new EdgeTunnel(req, socket, head, match.service, {
        inFlight: this.#inFlight,
        metrics: this.#metrics,
      }).start();
      return;
    }
    const host = requestHost(req.headers);
    this.#metrics.count(NO_SERVICE, match.kind === "no-host" ? "misdirected" : "no-path");
    socket.on("error", () => undefined);
    socket.end(
      match.kind === "no-host"
        ? rawPlain(421, misdirected(host))
        : rawPlain(404, noPath(host, req.url ?? "/")),
    );
  };

  /** The service for `req`; a service that strips its prefix gets the request's path without it. */
  #match(req: IncomingMessage): RouteMatch<EdgeService> {
    const url = req.url ?? "/";
    const match = this.#routes.match(requestHost(req.headers), url);
    if (match.kind === "service" && match.service.stripPrefix)
      req.url = stripPrefix(match.service.pathPrefix, url);
    return match;
  }
}
