import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Colour } from "../colour.js";
import type { ColourLane } from "./colour-lane.js";
import type { Mirror } from "./mirror.js";
import { rawFailure, sendFailure } from "./proxy-failure.js";
import { proxyRequest } from "./proxy-request.js";
import { TunnelExchange } from "./tunnel-exchange.js";

/**
 * A request that arrived while new requests are held: nothing of it has gone to a colour yet. It is started
 * on the colour active at the release, answered 503 when the hold is full, or dropped when its client goes.
 */
export interface HeldRequest {
  /** Sends it to `lane`'s colour, as if it had arrived now. */
  start(lane: ColourLane): void;
  /** Answers it with the router's own 503 (and Retry-After): as many requests as the router may hold are held. */
  refuse(colour: Colour): void;
  /** Closes its connection (the router is closing). */
  abandon(): void;
  /** Calls `gone` once when the client goes away first; the returned function stops watching. */
  watchGone(gone: () => void): () => void;
}

/** An HTTP request held; its body, if any, waits unread in the socket (TCP back-pressure holds the client). */
export class HeldHttpRequest implements HeldRequest {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #mirror: () => Mirror | null;

  constructor(req: IncomingMessage, res: ServerResponse, mirror: () => Mirror | null) {
    this.#req = req;
    this.#res = res;
    this.#mirror = mirror;
  }

  /**
   * Its duration counts from now: the wait is the hold's (cutover_hold_seconds_total), not the colour's
   * latency, which the analysis compares between colours.
   */
  start(lane: ColourLane): void {
    proxyRequest(this.#req, this.#res, lane, this.#mirror());
  }

  refuse(colour: Colour): void {
    sendFailure(this.#res, "hold-full", colour);
  }

  abandon(): void {
    this.#res.destroy();
  }

  watchGone(gone: () => void): () => void {
    // A response not begun emits "close" when its connection closes.
    this.#res.once("close", gone);
    return () => this.#res.off("close", gone);
  }
}

/** A WebSocket (or other) upgrade held: the socket is ours alone once Node has emitted "upgrade". */
export class HeldUpgrade implements HeldRequest {
  readonly #req: IncomingMessage;
  readonly #socket: Duplex;
  readonly #head: Buffer;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer) {
    this.#req = req;
    this.#socket = socket;
    this.#head = head;
  }

  start(lane: ColourLane): void {
    new TunnelExchange(this.#req, this.#socket, this.#head, lane).start();
  }

  refuse(colour: Colour): void {
    const socket = this.#socket;
    socket.on("error", () => socket.destroy());
    socket.end(rawFailure("hold-full", colour));
    socket.once("finish", () => socket.destroy());
  }

  abandon(): void {
    this.#socket.destroy();
  }

  watchGone(gone: () => void): () => void {
    // Node's server stops listening for errors on an upgraded socket: without a listener a reset would throw.
    const socket = this.#socket;
    socket.once("close", gone);
    socket.on("error", gone);
    return () => {
      socket.off("close", gone);
      socket.off("error", gone);
    };
  }
}
