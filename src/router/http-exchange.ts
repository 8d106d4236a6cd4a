import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import type { ColourLane } from "./colour-lane.js";
import type { InFlight } from "./in-flight-set.js";
import type { Mirror } from "./mirror.js";
import { failureStatus, type ProxyFailure, sendFailure } from "./proxy-failure.js";
import { requestHeaders } from "./request-headers.js";
import { contentLength, responseHeaders } from "./response-headers.js";
import { declaredBodyLength, isSafeMethod, markedIdempotent } from "./retry-policy.js";
import type { Upstream } from "./upstream.js";
import { connectionFailed, describeError, failureFor, neverSent, reasonOf } from "./upstream-errors.js";

/** Status counted when the client went away before its answer was complete (nginx's convention). */
export const CLIENT_CLOSED = 499;

/**
 * One HTTP request proxied to a replica of one colour: the undici dispatch handler, streaming both
 * bodies, and the entry the colour's in-flight set tracks for drain. When the connection to the replica
 * failed before any byte of the answer, the request is sent once more, to another replica of the colour, if
 * that is safe: it never left (refused), or sending it twice changes nothing (a safe method, or a request the
 * client marked with the idempotency header, whose body is then kept, up to the policy's limit).
 */
export class HttpExchange implements Dispatcher.DispatchHandlers, InFlight {
  /** Its place in its in-flight set (InFlightSet's own). */
  inFlightSlot = -1;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #lane: ColourLane;
  readonly #started = performance.now();
  readonly #clientIp: string;
  /** The body to send: streamed from the client, kept whole (a marked request, to send again), or none. */
  #body: IncomingMessage | Buffer | null;
  /** What the request says of its body: 0 none, -1 chunked, else its Content-Length. */
  readonly #bodyLength: number;
  readonly #mirror: Mirror | null;
  #headers: string[] = [];
  #upstream: Upstream | undefined;
  #abort: ((error?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #status = 0;
  /** Body bytes the answer still owes by its Content-Length; -1 when it gave none. */
  #bodyLeft = -1;
  #retried = false;
  #finished = false;
  /** res.end() was called: the whole body arrived in one chunk. */
  #ended = false;
  #awaitingDrain = false;

  constructor(req: IncomingMessage, res: ServerResponse, lane: ColourLane, mirror: Mirror | null = null) {
    this.#req = req;
    this.#mirror = mirror;
    this.#res = res;
    this.#lane = lane;
    this.#clientIp = req.socket.remoteAddress ?? "";
    this.#bodyLength = declaredBodyLength(req);
    this.#body = this.#bodyLength === 0 ? null : req;
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
    this.#headers = requestHeaders(this.#req, this.#clientIp, false);
    this.#lane.inFlight.add(this);
    // `on`, not `once` (no wrapper per request): the listener ignores a close after the exchange finished.
    this.#res.on("close", this.#onClientClose);
    // Only a body the policy lets keep costs a look for the idempotency header here; the rest look on failure.
    const { retry } = this.#lane;
    if (this.#bodyLength > 0 && this.#bodyLength <= retry.maxBodyBytes && markedIdempotent(this.#req, retry))
      this.#keepBodyThenSend(upstream);
    else this.#send(upstream);
  }

  cancel(): void {
    if (this.#finished) return;
    if (this.#status === 0) {
      this.#fail("drained");
    } else {
      // The answer has begun: cut it short; it counts as drained.
      this.#res.destroy();
      this.#finish(failureStatus("drained"));
    }
    this.#abort?.();
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.#finished) abort();
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200 || this.#finished) return true;
    this.#status = statusCode;
    this.#resume = resume;
    try {
      const headers = responseHeaders(rawHeaders, this.#lane.colour);
      this.#bodyLeft = contentLength(headers);
      // HTTP/2 has no reason phrase.
      if (statusText === "" || this.#req.httpVersionMajor === 2) this.#res.writeHead(statusCode, headers);
      else this.#res.writeHead(statusCode, statusText, headers);
    } catch (error) {
      this.#status = 0;
      this.#lane.metrics.recordUpstreamFailure(this.#lane.colour, "bad-response", false);
      this.#fail("upstream-failed", error instanceof Error ? error.message : "invalid response head");
      this.#abort?.();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#finished || this.#ended) return true;
    if (this.#bodyLeft === chunk.length) {
      // The rest of the body in one chunk (most small answers): end() sends head and body in one write,
      // without write()'s cork and uncork on the next tick. onComplete follows in the same parse.
      this.#ended = true;
      this.#res.end(chunk);
      return true;
    }
    if (this.#bodyLeft > 0) this.#bodyLeft -= chunk.length;
    if (this.#res.write(chunk)) return true;
    if (!this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.#res.once("drain", () => {
        this.#awaitingDrain = false;
        this.#resume?.();
      });
    }
    return false;
  }

  onComplete(): void {
    if (this.#finished) return;
    if (!this.#ended) this.#res.end();
    this.#finish(this.#status);
  }

  onError(error: Error): void {
    if (this.#finished) return;
    const { metrics, colour } = this.#lane;
    if (this.#status !== 0) {
      // The head is already on its way to the client: all we can do is cut the answer short.
      metrics.recordUpstreamFailure(colour, reasonOf(error), false);
      this.#res.destroy();
      this.#finish(502);
      return;
    }
    const retryOn = this.#retryTarget(error);
    metrics.recordUpstreamFailure(colour, reasonOf(error), retryOn !== undefined);
    if (retryOn !== undefined) {
      this.#retried = true;
      this.#abort = null;
      this.#send(retryOn);
      return;
    }
    this.#fail(failureFor(error), describeError(error));
  }

  /** Reads the whole body of a marked request (short, by the policy's limit) so that it can be sent twice. */
  #keepBodyThenSend(upstream: Upstream): void {
    const chunks: Buffer[] = [];
    const req = this.#req;
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => {
      if (this.#finished) return;
      this.#body = Buffer.concat(chunks);
      this.#send(upstream);
    });
    // A client that goes away mid-body closes the response too: #onClientClose counts it.
  }

  #send(upstream: Upstream): void {
    this.#upstream = upstream;
    const req = this.#req;
    upstream.pool.dispatch(
      {
        path: req.url as string,
        method: req.method as Dispatcher.HttpMethod,
        headers: this.#headers,
        body: this.#body,
      },
      this,
    );
  }

  /** Another replica to send a failed request to, when that is safe and has not been done yet. */
  #retryTarget(error: Error): Upstream | undefined {
    // A streamed body is gone once read: a request can go again without one, with one kept whole, or when
    // the connection was never had and undici has not read a byte of it yet.
    const body = this.#body;
    const resendable = body === null || Buffer.isBuffer(body) || (neverSent(error) && !body.readableDidRead);
    if (this.#retried || !resendable || this.#upstream === undefined || !connectionFailed(error)) {
      return undefined;
    }
    const safe =
      isSafeMethod(this.#req.method) || neverSent(error) || markedIdempotent(this.#req, this.#lane.retry);
    if (!safe) return undefined;
    return this.#lane.replicas.pickAfter(this.#upstream, this.#clientIp);
  }

  #fail(failure: ProxyFailure, detail?: string): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) {
      const status = res.destroyed ? CLIENT_CLOSED : 502;
      res.destroy();
      this.#finish(status);
      return;
    }
    this.#finish(sendFailure(this.#res, failure, this.#lane.colour, detail));
  }

  #finish(status: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#lane.inFlight.delete(this);
    this.#lane.metrics.recordRequest(this.#lane.colour, status, (performance.now() - this.#started) / 1000);
    // Shadow traffic once the live answer is done, so the copy never competes with it for the router's
    // thread or the machine's cores; never for a request with a body, nor one that reached no replica.
    if (this.#mirror !== null && this.#body === null && this.#upstream !== undefined)
      this.#mirror.offer(this.#req, this.#headers, this.#lane.colour);
  }

  readonly #onClientClose = (): void => {
    if (this.#finished) return;
    this.#finish(CLIENT_CLOSED);
    this.#abort?.();
  };
}
