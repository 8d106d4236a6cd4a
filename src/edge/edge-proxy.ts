import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { FrontExchange, type FrontExchangeContext } from "../front/front-exchange.js";
import type { FrontWords } from "../front/front-target.js";
import { sendPlain } from "../front/plain-answer.js";
import type { InFlightSet } from "../router/in-flight-set.js";
import { DEFAULT_RETRY } from "../router/retry-policy.js";
import { badPath, misdirected, noPath, rawPlain } from "./edge-answers.js";
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
};

/** The edge's own answer to a request no service takes. */
interface Refusal {
  readonly status: number;
  readonly message: string;
}

/**
 * The edge's data plane: each request (and WebSocket upgrade) goes to the one service whose hosts and path
 * prefix it matches, through the front's exchange with a route of that service alone, so no request of one
 * service is ever answered by another. A request no service takes is answered 421 (unknown host) or 404, one
 * whose path has a dot-segment or an encoded slash or dot 400 (host-routes.ts, unsafePath).
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
      // A service whose router does not answer is not up (yet): 503, as for the service's own hosts only.
      unreachable: "it is not running now; retry shortly",
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
    req.resume();
    const { status, message } = this.#refuse(req, match);
    sendPlain(res, status, message);
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
    const { status, message } = this.#refuse(req, match);
    socket.on("error", () => undefined);
    socket.end(rawPlain(status, message));
  };

  /** Counts a request no service takes, and says what the edge answers it. */
  #refuse(req: IncomingMessage, match: Exclude<RouteMatch<EdgeService>, { kind: "service" }>): Refusal {
    const host = requestHost(req.headers);
    const url = req.url ?? "/";
    this.#metrics.count(NO_SERVICE, match.kind === "no-host" ? "misdirected" : match.kind);
    if (match.kind === "no-host") return { status: 421, message: misdirected(host) };
    if (match.kind === "bad-path") return { status: 400, message: badPath(url, match.why) };
    return { status: 404, message: noPath(host, url) };
  }

  /** The service for `req`; a service that strips its prefix gets the request's path without it. */
  #match(req: IncomingMessage): RouteMatch<EdgeService> {
    const url = req.url ?? "/";
    const match = this.#routes.match(requestHost(req.headers), url);
    if (match.kind === "service" && match.service.stripPrefix)
      req.url = stripPrefix(match.service.pathPrefix, url);
    return match;
  }
}
