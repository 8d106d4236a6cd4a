import type { IncomingMessage, ServerResponse } from "node:http";
import type { ColourLane } from "./colour-lane.js";
import { H2cExchange } from "./h2c-exchange.js";
import { HttpExchange } from "./http-exchange.js";
import type { Mirror } from "./mirror.js";

/**
 * Proxies one request to `lane`'s colour: over HTTP/1.1, or as an HTTP/2 stream when the colour's replicas
 * speak h2c (router.upstreamProtocol). Shadow copies (`mirror`) are HTTP/1.1 only; h2c never mirrors.
 */
export function proxyRequest(
  req: IncomingMessage,
  res: ServerResponse,
  lane: ColourLane,
  mirror: Mirror | null,
): void {
  if (lane.h2c) new H2cExchange(req, res, lane).start();
  else new HttpExchange(req, res, lane, mirror).start();
}
