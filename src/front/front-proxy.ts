import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { InFlightSet } from "../router/in-flight-set.js";
import { DEFAULT_RETRY } from "../router/retry-policy.js";
import { FrontExchange, type FrontExchangeContext } from "./front-exchange.js";
import type { FrontMetrics } from "./front-metrics.js";
import type { FrontRegion } from "./front-region.js";
import { REGION_HEADER } from "./front-response-headers.js";
import { type FrontRouting, routeOrder, WeightedRotation } from "./front-routing.js";
import type { FrontWords } from "./front-target.js";

const GLOBAL_FRONT_WORDS: FrontWords = {
  self: "the global front",
  target: "region",
  header: REGION_HEADER,
};

export interface FrontProxyOptions {
  readonly regions: readonly FrontRegion[];
  readonly routing: FrontRouting;
  readonly metrics: FrontMetrics;
}

/**
 * The global front's data plane: an HTTP/1.1 reverse proxy that routes each request by the regions' state
 * at the moment it arrives (a drain takes effect for the next request), and knows what is in flight.
 */
export class FrontProxy {
  readonly server: Server;
  readonly #options: FrontProxyOptions;
  readonly #rotation = new WeightedRotation();
  readonly #context: FrontExchangeContext;

  constructor(options: FrontProxyOptions) {
    this.#options = options;
    this.#context = {
      inFlight: new InFlightSet(),
      metrics: options.metrics,
      retry: DEFAULT_RETRY,
      words: GLOBAL_FRONT_WORDS,
    };
    this.server = createServer(this.#handle);
  }

  get inFlight(): InFlightSet {
    return this.#context.inFlight;
  }

  readonly #handle = (req: IncomingMessage, res: ServerResponse): void => {
    const { regions, routing } = this.#options;
    new FrontExchange(req, res, routeOrder(regions, routing, this.#rotation), this.#context).start();
  };
}
