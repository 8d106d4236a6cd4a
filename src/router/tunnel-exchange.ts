import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Colour } from "../colour.js";
import type { ColourLane } from "./colour-lane.js";
import type { InFlight } from "./in-flight-set.js";
import { failureStatus, type ProxyFailure, rawFailure } from "./proxy-failure.js";
import { requestHeaders } from "./request-headers.js";
import { COLOUR_HEADER } from "./response-headers.js";
import type { Upstream } from "./upstream.js";
import { describeError, failureFor } from "./upstream-errors.js";

/** A response head longer than this is refused. */
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
const COLOUR_LINES: Readonly<Record<Colour, Buffer>> = {
  blue: Buffer.from(`\r\n${COLOUR_HEADER}: blue`),
  green: Buffer.from(`\r\n${COLOUR_HEADER}: green`),
};

/**
 * One HTTP Upgrade (WebSocket) passed through to a replica: the request head is written on a new
 * connection, x-cutover-colour is added to the answer's head, then bytes are piped both ways until
 * either side closes. An error on either side closes both.
 */
export class TunnelExchange implements InFlight {
  /** Its place in its in-flight set (InFlightSet's own). */
  inFlightSlot = -1;
  readonly #req: IncomingMessage;
  readonly #client: Duplex;
  readonly #head: Buffer;
  readonly #lane: ColourLane;
  readonly #clientIp: string;
  #upstream: Upstream | undefined;
  #socket: Socket | null = null;
  #responseHead: Buffer[] = [];
  #responseHeadBytes = 0;
  #status = 0;
  #connected = false;
  #retried = false;
  #finished = false;

  constructor(req: IncomingMessage, client: Duplex, head: Buffer, lane: ColourLane) {
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#lane = lane;
    this.#clientIp = req.socket.remoteAddress ?? "";
  }

  start(): void {
    const upstream = this.#lane.replicas.pick(this.#clientIp);
    if (upstream === undefined) {
      this.#fail("no-replica");
      return;
    }
    this.#lane.inFlight.add(this);
    this.#client.on("error", this.#onClientGone);
    this.#client.once("close", this.#onClientGone);
    this.#open(upstream);
  }

  cancel(): void {
    this.#close(this.#status === 0 ? 503 : this.#status);
  }

  #open(upstream: Upstream): void {
    this.#upstream = upstream;
    const socket = connect({ host: upstream.endpoint.host, port: upstream.endpoint.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.#lane.headersTimeoutMs);
    socket.once("connect", this.#onConnect);
    socket.on("data", this.#onResponseHead);
    socket.on("timeout", this.#onTimeout);
    socket.on("error", this.#onUpstreamError);
    socket.once("close", this.#onUpstreamClose);
  }

  readonly #onConnect = (): void => {
    this.#connected = true;
    const req = this.#req;
    const headers = requestHeaders(req, this.#clientIp, true);
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const socket = this.#socket as Socket;
    socket.write(`${head}\r\n`);
    if (this.#head.length > 0) socket.write(this.#head);
    this.#client.pipe(socket);
  };

  /** Collects the answer's head, adds the colour header to it, then joins the two sockets. */
  readonly #onResponseHead = (chunk: Buffer): void => {
    this.#responseHead.push(chunk);
    this.#responseHeadBytes += chunk.length;
    const buffered = this.#responseHead.length === 1 ? chunk : Buffer.concat(this.#responseHead);
    const end = buffered.indexOf(HEAD_END);
    if (end === -1) {
      if (this.#responseHeadBytes > MAX_HEAD_BYTES) this.#fail("upstream-failed", "response head too large");
      return;
    }
    const socket = this.#socket as Socket;
    socket.removeListener("data", this.#onResponseHead);
    socket.setTimeout(0);
    this.#responseHead = [];
    this.#status = Number(buffered.subarray(9, 12).toString("latin1")) || 502;
    const colourLine = COLOUR_LINES[this.#lane.colour];
    this.#client.write(Buffer.concat([buffered.subarray(0, end), colourLine, buffered.subarray(end)]));
    socket.pipe(this.#client);
  };

  readonly #onUpstreamError = (error: Error): void => {
    if (this.#finished) return;
    if (this.#status !== 0) {
      this.#close(this.#status);
      return;
    }
    const retryOn = this.#retryTarget();
    if (retryOn !== undefined) {
      this.#retried = true;
      this.#detachSocket();
      this.#open(retryOn);
      return;
    }
    this.#fail(failureFor(error), describeError(error));
  };

  readonly #onTimeout = (): void => {
    if (this.#status === 0) this.#fail("upstream-timeout", "no answer to the upgrade request in time");
  };

  readonly #onUpstreamClose = (): void => {
    if (this.#finished) return;
    if (this.#status === 0) {
      this.#fail("upstream-failed", "the replica closed the connection without answering");
    } else {
      this.#close(this.#status);
    }
  };

  readonly #onClientGone = (): void => {
    this.#close(this.#status === 0 ? 499 : this.#status);
  };

  /** Only a connection that was never opened is tried again: nothing of the client's has been sent yet. */
  #retryTarget(): Upstream | undefined {
    if (this.#retried || this.#connected || this.#upstream === undefined) return undefined;
    return this.#lane.replicas.pickAfter(this.#upstream, this.#clientIp);
  }

  #detachSocket(): void {
    const socket = this.#socket;
    if (socket === null) return;
    socket.removeAllListeners();
    socket.on("error", () => undefined);
    socket.destroy();
    this.#socket = null;
  }

  #fail(failure: ProxyFailure, detail?: string): void {
    if (this.#finished) return;
    this.#client.end(rawFailure(failure, this.#lane.colour, detail));
    this.#close(failureStatus(failure));
  }

  #close(status: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#socket?.destroy();
    const client = this.#client;
    // An answer of the router's own (503, 502...) is flushed before the socket goes.
    if (client.writableEnded && !client.writableFinished) client.once("finish", () => client.destroy());
    else client.destroy();
    this.#lane.inFlight.delete(this);
    this.#lane.metrics.recordTunnel(this.#lane.colour, status);
  }
}
