import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { InFlight, InFlightSet } from "../router/in-flight-set.js";
import { rawPlain } from "./edge-answers.js";
import type { EdgeMetrics, EdgeOutcome } from "./edge-metrics.js";
import { edgeRequestHeaders } from "./edge-request-headers.js";
import type { EdgeService } from "./edge-service.js";

/** Time a service's router has to answer an upgrade request (it waits on a replica's answer itself). */
const HANDSHAKE_TIMEOUT_MS = 75_000;

export interface EdgeTunnelContext {
  readonly inFlight: InFlightSet;
  readonly metrics: EdgeMetrics;
}

/**
 * One HTTP Upgrade (WebSocket) through the edge to a service's router: the request head is written on a new
 * connection with the edge's forwarding headers, then bytes are piped both ways, the router's answer (101
 * with its x-cutover-colour, or its error) untouched, until either side closes. A router that refuses the
 * connection gets the client a 503, as a plain request would.
 */
export class EdgeTunnel implements InFlight {
  /** Its place in its in-flight set (InFlightSet's own). */
  inFlightSlot = -1;
  readonly #req: IncomingMessage;
  readonly #client: Duplex;
  readonly #head: Buffer;
  readonly #service: EdgeService;
  readonly #context: EdgeTunnelContext;
  #socket: Socket | null = null;
  /** The router has sent a first byte of its answer. */
  #answered = false;
  #finished = false;

  constructor(
    req: IncomingMessage,
    client: Duplex,
    head: Buffer,
    service: EdgeService,
    context: EdgeTunnelContext,
  ) {
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#service = service;
    this.#context = context;
  }

  start(): void {
    this.#context.inFlight.add(this);
    this.#client.on("error", this.#onClientGone);
    this.#client.once("close", this.#onClientGone);
    const { host, port } = this.#service.upstream;
    const socket = connect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS);
    socket.once("connect", this.#onConnect);
    socket.once("data", this.#onFirstAnswer);
    socket.once("timeout", this.#onTimeout);
    socket.on("error", this.#onUpstreamError);
    socket.once("close", this.#onUpstreamClose);
  }

  cancel(): void {
    this.#finish("cancelled");
  }

  readonly #onConnect = (): void => {
    const req = this.#req;
    const headers = edgeRequestHeaders(req, true);
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const socket = this.#socket as Socket;
    socket.write(`${head}\r\n`);
    if (this.#head.length > 0) socket.write(this.#head);
    this.#client.pipe(socket);
  };

  readonly #onFirstAnswer = (chunk: Buffer): void => {
    const socket = this.#socket as Socket;
    this.#answered = true;
    socket.setTimeout(0);
    this.#context.metrics.count(this.#service.name, "upgraded");
    this.#client.write(chunk);
    socket.pipe(this.#client);
  };

  readonly #onTimeout = (): void => {
    if (!this.#answered) this.#fail(504, `service ${this.#service.name} did not answer the upgrade in time`);
  };

  readonly #onUpstreamError = (error: NodeJS.ErrnoException): void => {
    if (this.#answered) this.#finish("answered");
    else if (error.code === "ECONNREFUSED")
      this.#fail(503, `service ${this.#service.name} is not reachable (ECONNREFUSED); retry shortly`);
    else this.#fail(502, `service ${this.#service.name} failed: ${error.code ?? "upstream error"}`);
  };

  readonly #onUpstreamClose = (): void => {
    if (this.#answered) this.#finish("answered");
    else this.#fail(502, `service ${this.#service.name} closed the connection without answering`);
  };

  readonly #onClientGone = (): void => {
    this.#finish(this.#answered ? "answered" : "client-closed");
  };

  /** Answers the client with the edge's own short message, then closes both sides. */
  #fail(status: number, message: string): void {
    if (this.#finished) return;
    this.#client.end(rawPlain(status, message));
    this.#finish("failed");
  }

  #finish(outcome: EdgeOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#context.inFlight.delete(this);
    // An upgraded tunnel was counted when it opened; the rest are counted as they end.
    if (!this.#answered || outcome !== "answered") this.#context.metrics.count(this.#service.name, outcome);
    const socket = this.#socket;
    if (socket !== null) {
      socket.removeListener("error", this.#onUpstreamError);
      socket.on("error", () => undefined);
    }
    this.#client.removeListener("error", this.#onClientGone);
    this.#client.on("error", () => undefined);
    // A tunnel cancelled at the end of a drain goes at once; otherwise each side is closed after what was
    // written to it has left, as the router's TunnelExchange does.
    const now = outcome === "cancelled";
    if (socket !== null) closeAfterFlush(socket, now);
    closeAfterFlush(this.#client, now);
  }
}

/**
 * Destroys `side` once what was written to it has left: when the other side ended the tunnel, the pipe ended
 * this one (or a failure's answer was ended on it), and its last bytes (a WebSocket's final message and close
 * frame) may still wait in its buffer; destroying it at once would cut them. `now`: without waiting.
 */
function closeAfterFlush(side: Duplex, now: boolean): void {
  if (!now && side.writableEnded && !side.writableFinished) side.once("finish", () => side.destroy());
  else side.destroy();
}
