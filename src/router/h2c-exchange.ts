import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type Http2ServerRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { performance } from "node:perf_hooks";
import type { ColourLane } from "./colour-lane.js";
import { h2cRequestHeaders, h2cResponseHeaders, h2cTrailers, isGrpc } from "./h2c-headers.js";
import { CLIENT_CLOSED } from "./http-exchange.js";
import type { InFlight } from "./in-flight-set.js";
import { failureStatus, type ProxyFailure, sendFailure } from "./proxy-failure.js";
import { declaredBodyLength, isSafeMethod, markedIdempotent } from "./retry-policy.js";
import type { Upstream } from "./upstream.js";
import { connectionFailed, describeError, failureFor, neverSent, reasonOf } from "./upstream-errors.js";

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = constants;

/** gRPC's UNAVAILABLE: what a gRPC client is told when its answer was cut short; clients may retry it. */
const GRPC_UNAVAILABLE = "14";

/** An h2c failure with a code upstream-errors.ts knows (how it is counted, answered and retried). */
class H2cError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * One request proxied to an h2c replica as an HTTP/2 stream on the replica's session: both bodies streamed
 * (with back-pressure), the answer's trailers passed on (gRPC's grpc-status is one), an answer that ends
 * with its head (gRPC's trailers-only errors) sent as one HEADERS frame, and the entry the colour's
 * in-flight set tracks for drain. A request that failed before any byte of its answer is sent once more, to
 * another replica of the colour, when nothing of its body was read yet and sending it twice is safe (it
 * never left, a safe method, or the idempotency header); its body is never kept to be sent again.
 */
export class H2cExchange implements InFlight {
  /** Its place in its in-flight set (InFlightSet's own). */
  inFlightSlot = -1;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #lane: ColourLane;
  readonly #started = performance.now();
  readonly #clientIp: string;
  /** The client's own HTTP/2 stream, when it came over HTTP/2: an answer that is only a head goes on it. */
  readonly #clientStream: ServerHttp2Stream | null;
  readonly #hasBody: boolean;
  #headers: OutgoingHttpHeaders = {};
  #upstream: Upstream | undefined;
  #stream: ClientHttp2Stream | null = null;
  /** The session #stream runs on (a destroyed stream no longer names it). */
  #session: ClientHttp2Session | null = null;
  #headersTimer: NodeJS.Timeout | undefined;
  #status = 0;
  /** What the answer's head says of its body: its Content-Length, -1 when it gave none. */
  #bodyLength = -1;
  #bodyBytes = 0;
  /** The answer carried a grpc-status (in its head or its trailers): a gRPC answer is whole only with one. */
  #grpcStatus = false;
  #grpcAnswer = false;
  #retried = false;
  #finished = false;
  #awaitingDrain = false;

  constructor(req: IncomingMessage, res: ServerResponse, lane: ColourLane) {
    this.#req = req;
    this.#res = res;
    this.#lane = lane;
    this.#clientIp = req.socket.remoteAddress ?? "";
    this.#clientStream = req.httpVersionMajor === 2 ? (req as unknown as Http2ServerRequest).stream : null;
    this.#hasBody = declaredBodyLength(req) !== 0;
  }

  start(): void {
    const upstream = this.#lane.replicas.pick(this.#clientIp);
    if (upstream === undefined) {
      this.#fail("no-replica");
      return;
    }
    if (this.#req.url?.startsWith("/") !== true) {
      this.#fail("bad-request", "expected a path starting with /");
      return;
    }
    this.#headers = h2cRequestHeaders(this.#req, this.#clientIp);
    this.#lane.inFlight.add(this);
    this.#res.once("close", this.#onClientClose);
    // The replica's time to answer counts from the end of the request, as over HTTP/1.1.
    if (this.#hasBody) this.#req.once("end", this.#armHeadersTimer);
    this.#send(upstream);
  }

  cancel(): void {
    if (this.#finished) return;
    if (this.#status === 0) this.#fail("drained");
    else this.#cutShort(failureStatus("drained"), "the request outlived the drain after a switch");
  }

  #send(upstream: Upstream): void {
    this.#upstream = upstream;
    const session = upstream.h2c?.current() ?? null;
    if (session === null) {
      this.#upstreamFailed(new H2cError("ERR_HTTP2_INVALID_SESSION", "the replica left rotation"));
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(this.#headers, { endStream: !this.#hasBody });
    } catch (error) {
      // Header fields Node refuses to send, or a session that closed since it was picked.
      this.#upstreamFailed(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#stream = stream;
    this.#session = session;
    // Events of a stream given up for another replica are ignored: each handler checks it is still current.
    const current = (): boolean => this.#stream === stream;
    stream.on("response", (headers, flags) => current() && this.#onResponse(headers, flags));
    stream.on("data", (chunk: Buffer) => current() && this.#onData(chunk));
    stream.on("trailers", (trailers) => current() && this.#onTrailers(trailers));
    stream.once("end", () => current() && this.#onEnd());
    stream.on("error", (error) => current() && this.#onError(error));
    stream.once("close", () => current() && this.#onClose());
    // The body is read only once the stream is open: a request whose session could not be had is still whole.
    // On a session already connected the stream opens within request(), before 'ready' could be listened to.
    if (!this.#hasBody) this.#armHeadersTimer();
    else if (!stream.pending) this.#req.pipe(stream);
    else stream.once("ready", () => current() && this.#req.pipe(stream));
  }

  readonly #armHeadersTimer = (): void => {
    if (this.#finished || this.#status !== 0) return;
    clearTimeout(this.#headersTimer);
    const ms = this.#lane.headersTimeoutMs;
    this.#headersTimer = setTimeout(
      () => this.#upstreamFailed(new H2cError("H2C_HEADERS_TIMEOUT", `no answer within ${ms}ms`)),
      ms,
    );
  };

  #onResponse(headers: IncomingHttpHeaders, flags: number): void {
    clearTimeout(this.#headersTimer);
    if (this.#finished) return;
    const status = Number(headers[":status"]);
    const fields = h2cResponseHeaders(headers, this.#lane.colour);
    this.#grpcAnswer = String(headers["content-type"]).startsWith("application/grpc");
    this.#grpcStatus = headers["grpc-status"] !== undefined;
    this.#bodyLength = /^\d+$/.test(String(headers["content-length"]))
      ? Number(headers["content-length"])
      : -1;
    try {
      if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
        this.#answerHeadOnly(status, fields);
        return;
      }
      this.#res.writeHead(status, fields);
      this.#status = status;
    } catch (error) {
      this.#lane.metrics.recordUpstreamFailure(this.#lane.colour, "bad-response", false);
      this.#fail("upstream-failed", error instanceof Error ? error.message : "invalid response head");
      return;
    }
    const bodyMs = this.#lane.bodyTimeoutMs;
    if (bodyMs > 0)
      this.#stream?.setTimeout(bodyMs, () =>
        this.#upstreamFailed(new H2cError("H2C_BODY_TIMEOUT", `no answer body for ${bodyMs}ms`)),
      );
  }

  /** An answer that ended with its head: as one HEADERS frame to an HTTP/2 client (a gRPC trailers-only error). */
  #answerHeadOnly(status: number, fields: OutgoingHttpHeaders): void {
    const clientStream = this.#clientStream;
    if (clientStream !== null) clientStream.respond({ ...fields, ":status": status }, { endStream: true });
    else this.#res.writeHead(status, fields).end();
    this.#status = status;
    this.#finish(status, true);
  }

  #onData(chunk: Buffer): void {
    if (this.#finished) return;
    this.#bodyBytes += chunk.length;
    if (this.#res.write(chunk) || this.#awaitingDrain) return;
    this.#awaitingDrain = true;
    const stream = this.#stream as ClientHttp2Stream;
    stream.pause();
    this.#res.once("drain", () => {
      this.#awaitingDrain = false;
      stream.resume();
    });
  }

  #onTrailers(trailers: IncomingHttpHeaders): void {
    if (this.#finished) return;
    if (trailers["grpc-status"] !== undefined) this.#grpcStatus = true;
    this.#res.addTrailers(h2cTrailers(trailers));
  }

  /**
   * The answer's end. Node ends a stream the same way when its replica's connection closed under it (the
   * stream reset with CANCEL, the session destroyed), so an answer is taken as whole only when the stream
   * ended cleanly and its own framing agrees: it has a head, a gRPC answer has its grpc-status, a body with a
   * Content-Length has all its bytes. A body without a Content-Length has only the clean end to go by.
   */
  #onEnd(): void {
    if (this.#finished) return;
    const cut =
      this.#status === 0 ||
      this.#endedByReset() ||
      (this.#grpcAnswer && !this.#grpcStatus) ||
      (this.#bodyLength >= 0 && this.#bodyBytes !== this.#bodyLength);
    if (cut) {
      this.#upstreamFailed(new H2cError("H2C_STREAM_CLOSED", "the answer ended before it was whole"));
      return;
    }
    this.#res.end();
    this.#finish(this.#status, true);
  }

  /**
   * True when the stream's end came from a reset rather than the replica's END_STREAM: a close code other
   * than NO_ERROR, or (not closed yet) a session destroyed under it. A stream closed with NO_ERROR had its whole
   * answer, even if its session went away while the answer waited in a paused stream.
   */
  #endedByReset(): boolean {
    const rstCode = this.#stream?.rstCode;
    if (rstCode !== undefined) return rstCode !== NGHTTP2_NO_ERROR;
    // Not `closed`: a session closed gracefully (GOAWAY, or a new one opened) lets its streams finish whole.
    const session = this.#session;
    return session === null || session.destroyed;
  }

  #onError(error: Error): void {
    if (this.#finished) return;
    this.#upstreamFailed(this.#normalised(error));
  }

  #onClose(): void {
    if (this.#finished) return;
    // Closed without an error and without its end: reset by the replica (CANCEL), or refused.
    const refused = this.#stream?.rstCode === NGHTTP2_REFUSED_STREAM;
    this.#upstreamFailed(
      new H2cError(refused ? "H2C_REFUSED_STREAM" : "H2C_STREAM_CLOSED", "the replica closed the stream"),
    );
  }

  /** The replica failed the request: retried, answered by the router, or cut short once begun. */
  #upstreamFailed(error: Error): void {
    if (this.#finished) return;
    clearTimeout(this.#headersTimer);
    const { metrics, colour } = this.#lane;
    if (this.#status !== 0) {
      metrics.recordUpstreamFailure(colour, reasonOf(error), false);
      this.#cutShort(502, "the replica failed mid-answer");
      return;
    }
    const retryOn = this.#retryTarget(error);
    metrics.recordUpstreamFailure(colour, reasonOf(error), retryOn !== undefined);
    if (retryOn !== undefined) {
      this.#retried = true;
      this.#detach(false);
      this.#send(retryOn);
      return;
    }
    this.#fail(failureFor(error), describeError(error));
  }

  /** Another replica to send a failed request to, when that is safe and has not been done yet. */
  #retryTarget(error: Error): Upstream | undefined {
    if (this.#retried || this.#upstream === undefined || !connectionFailed(error)) return undefined;
    if (this.#hasBody && this.#req.readableDidRead) return undefined;
    const req = this.#req;
    const safe = isSafeMethod(req.method) || neverSent(error) || markedIdempotent(req, this.#lane.retry);
    return safe ? this.#lane.replicas.pickAfter(this.#upstream, this.#clientIp) : undefined;
  }

  /** An error of the stream in the words of upstream-errors.ts. */
  #normalised(error: Error): Error {
    if (this.#stream?.rstCode === NGHTTP2_REFUSED_STREAM)
      return new H2cError("H2C_REFUSED_STREAM", "the replica refused the stream");
    // A stream that waited for its session and was cancelled when the session failed: the session's error.
    const cause = error.cause;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_HTTP2_STREAM_CANCEL" && cause instanceof Error && neverSent(cause)) return cause;
    return error;
  }

  /**
   * Ends an answer already begun. A gRPC client is told UNAVAILABLE in trailers, which it understands (and may
   * retry); any other client sees the stream or connection reset, as over HTTP/1.1.
   */
  #cutShort(status: number, why: string): void {
    const res = this.#res;
    if (this.#clientStream !== null && isGrpc(this.#req) && !res.writableEnded && !res.destroyed) {
      res.addTrailers({ "grpc-status": GRPC_UNAVAILABLE, "grpc-message": `cutover: ${why}` });
      res.end();
    } else res.destroy();
    this.#finish(status);
  }

  #fail(failure: ProxyFailure, detail?: string): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) {
      const status = res.destroyed ? CLIENT_CLOSED : 502;
      res.destroy();
      this.#finish(status);
      return;
    }
    this.#finish(sendFailure(res, failure, this.#lane.colour, detail));
  }

  /** `whole`: the replica's answer reached its end (nothing to cancel on its side). */
  #finish(status: number, whole = false): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#headersTimer);
    this.#detach(whole);
    // What is left of a body the replica no longer reads is let through, so the client's stream can close.
    if (this.#hasBody && !this.#req.readableEnded) this.#req.resume();
    this.#lane.inFlight.delete(this);
    this.#lane.metrics.recordRequest(this.#lane.colour, status, (performance.now() - this.#started) / 1000);
  }

  /**
   * Lets go of the stream to the replica. After a whole answer it closes by itself once the request is sent
   * (or at once, with NO_ERROR, when the client is still sending); otherwise it is cancelled, so the replica
   * stops (a gRPC server sees the call CANCELLED).
   */
  #detach(whole: boolean): void {
    const stream = this.#stream;
    if (stream === null) return;
    this.#stream = null;
    this.#req.unpipe(stream);
    if (stream.closed || stream.destroyed) return;
    if (!whole) stream.close(NGHTTP2_CANCEL);
    else if (!stream.writableEnded) stream.close(NGHTTP2_NO_ERROR);
  }

  readonly #onClientClose = (): void => {
    if (this.#finished) return;
    this.#finish(CLIENT_CLOSED);
  };
}
