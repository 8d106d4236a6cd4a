import type { IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import type { InFlight, InFlightSet } from "../router/in-flight-set.js";
import { failureStatus } from "../router/proxy-failure.js";
import { requestHeaders } from "../router/request-headers.js";
import {
  declaredBodyLength,
  isSafeMethod,
  markedIdempotent,
  type RetryPolicy,
} from "../router/retry-policy.js";
import { connectionFailed, describeError, failureFor, neverSent } from "../router/upstream-errors.js";
import { type FrontOutcome, NO_REGION, type OutcomeCounter } from "./front-metrics.js";
import { frontResponseHeaders, frontTrailers } from "./front-response-headers.js";
import type { FrontTarget, FrontWords } from "./front-target.js";
import { sendPlain } from "./plain-answer.js";

/** Answers of a target that cannot serve now: its router has no ready replica, or it is shutting down. */
const REGION_UNAVAILABLE: ReadonlySet<number> = new Set([502, 503, 504]);

/** What every exchange of one front shares. */
export interface FrontExchangeContext {
  readonly inFlight: InFlightSet;
  readonly metrics: OutcomeCounter;
  readonly retry: RetryPolicy;
  readonly words: FrontWords;
  /**
   * The headers sent on for `req`. Default: requestHeaders, which keeps the X-Forwarded-Proto and -Host a
   * proxy in front of this one set; a front that is the first hop sets its own.
   */
  readonly requestHeaders?: (req: IncomingMessage) => string[];
  /**
   * Set by a front whose target that cannot be reached is down for now (the edge: a service not started):
   * a request that never reached its target (refused, no route, connect timeout) is answered 503 with
   * Retry-After and this advice, e.g. "it is not running now; retry shortly". Unset (the global front), it
   * is answered as the router answers: 502, or 504 for a connect timeout.
   */
  readonly unreachable?: string;
}

/**
 * One request through a front (the global front before regions, the edge before services): sent to the
 * first target of its route, both bodies streamed. When that target fails before any byte of an answer and
 * sending the request again is safe (it never left, or its method is safe, or the client marked it
 * idempotent) it goes once more, to the next target of the route that still takes requests: a region that
 * dies costs as few requests as possible. So does a request without a body that is safe to send twice when
 * its target answers 502, 503 or 504 (nginx's proxy_next_upstream http_502 http_503 http_504): that answer
 * is dropped and the next target answers. A route of one target (the edge's) passes every answer through.
 */
export class FrontExchange implements Dispatcher.DispatchHandlers, InFlight {
  /** Its place in its in-flight set (InFlightSet's own). */
  inFlightSlot = -1;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #route: readonly FrontTarget[];
  readonly #context: FrontExchangeContext;
  readonly #body: IncomingMessage | null;
  #headers: string[] = [];
  #target: FrontTarget | undefined;
  #abort: ((error?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #status = 0;
  #retried = false;
  /** The target a request answered 502/503/504 goes to next, once the first answer is cut off. */
  #after: FrontTarget | undefined;
  #finished = false;
  #awaitingDrain = false;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    route: readonly FrontTarget[],
    context: FrontExchangeContext,
  ) {
    this.#req = req;
    this.#res = res;
    this.#route = route;
    this.#context = context;
    this.#body = declaredBodyLength(req) === 0 ? null : req;
  }

  start(): void {
    const first = this.#route[0];
    const words = this.#context.words;
    if (first === undefined) {
      this.#answer(503, `no healthy ${words.target} to send the request to; retry shortly`);
      return;
    }
    if (this.#req.url?.startsWith("/") !== true) {
      this.#answer(400, "expected a path starting with /");
      return;
    }
    this.#headers =
      this.#context.requestHeaders?.(this.#req) ??
      requestHeaders(this.#req, this.#req.socket.remoteAddress ?? "", false);
    this.#context.inFlight.add(this);
    this.#res.once("close", this.#onClientClose);
    this.#send(first);
  }

  cancel(): void {
    if (this.#finished) return;
    if (this.#status === 0)
      this.#answer(503, `${this.#context.words.self} is shutting down; retry`, "cancelled");
    else {
      this.#res.destroy();
      this.#finish("cancelled");
    }
    this.#abort?.();
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.#finished) abort();
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200 || this.#finished) return true;
    // A target that answers it cannot serve (no ready replica, shutting down) is passed over like a dead one.
    this.#after = REGION_UNAVAILABLE.has(statusCode) ? this.#retryAfterAnswer() : undefined;
    if (this.#after !== undefined) {
      this.#abort?.(new Error(`${this.#context.words.target} answered ${statusCode}`));
      return false;
    }
    this.#status = statusCode;
    this.#resume = resume;
    try {
      const headers = frontResponseHeaders(
        rawHeaders,
        (this.#target as FrontTarget).name,
        this.#context.words.header,
      );
      // HTTP/2 has no reason phrase.
      if (statusText === "" || this.#req.httpVersionMajor === 2) this.#res.writeHead(statusCode, headers);
      else this.#res.writeHead(statusCode, statusText, headers);
    } catch (error) {
      this.#status = 0;
      this.#answer(
        502,
        `the ${this.#context.words.target} sent an answer head that cannot be forwarded: ${(error as Error).message}`,
      );
      this.#abort?.();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#finished || this.#res.write(chunk)) return true;
    if (!this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.#res.once("drain", () => {
        this.#awaitingDrain = false;
        this.#resume?.();
      });
    }
    return false;
  }

  onComplete(trailers: string[] | null): void {
    if (this.#finished) return;
    // HTTP/1.1 chunked trailers (a checksum, a status sent after the body) go on to the client.
    const forwarded = frontTrailers(trailers);
    if (forwarded !== null) this.#res.addTrailers(forwarded);
    this.#res.end();
    this.#finish("answered");
  }

  onError(error: Error): void {
    if (this.#finished) return;
    if (this.#after !== undefined) {
      this.#retryOn(this.#after);
      return;
    }
    if (this.#status !== 0) {
      // The head is on its way to the client: all that can be done is to cut the answer short.
      this.#res.destroy();
      this.#finish("failed");
      return;
    }
    const next = this.#retryTarget(error);
    if (next === undefined) {
      this.#answerFailure(error);
      return;
    }
    this.#retryOn(next);
  }

  /**
   * The front's own answer when its target failed and no other may answer: 502 or 504 as the router
   * answers; with the context's `unreachable`, 503 and Retry-After when the request never reached it.
   */
  #answerFailure(error: Error): void {
    const { words, unreachable } = this.#context;
    const who = `${words.target} ${(this.#target as FrontTarget).name}`;
    if (unreachable !== undefined && neverSent(error))
      this.#answer(503, `${who} is not reachable (${describeError(error)}); ${unreachable}`);
    else this.#answer(failureStatus(failureFor(error)), `${who} failed: ${describeError(error)}`);
  }

  #retryOn(next: FrontTarget): void {
    this.#context.metrics.count((this.#target as FrontTarget).name, "retried");
    this.#retried = true;
    this.#after = undefined;
    this.#abort = null;
    this.#send(next);
  }

  #send(target: FrontTarget): void {
    this.#target = target;
    const req = this.#req;
    target.pool.dispatch(
      {
        path: target.basePath + (req.url as string),
        method: req.method as Dispatcher.HttpMethod,
        headers: this.#headers,
        body: this.#body,
      },
      this,
    );
  }

  /** The target to send a failed request to, when that is safe and has not been done yet. */
  #retryTarget(error: Error): FrontTarget | undefined {
    if (this.#retried || !connectionFailed(error)) return undefined;
    // A streamed body is gone once read: the request can go again without one, or when it never left.
    const body = this.#body;
    const unsent = neverSent(error);
    if (body !== null && !(unsent && !body.readableDidRead)) return undefined;
    const safe = unsent || isSafeMethod(this.#req.method) || markedIdempotent(this.#req, this.#context.retry);
    if (!safe) return undefined;
    // Read now, not when the request arrived: a target drained (or found failing) meanwhile is passed over.
    return this.#nextTarget();
  }

  /**
   * The target to send a request to after its target answered 502, 503 or 504: only a request without a
   * body whose method is safe (or that the client marked idempotent), once.
   */
  #retryAfterAnswer(): FrontTarget | undefined {
    if (this.#retried || this.#body !== null) return undefined;
    if (!isSafeMethod(this.#req.method) && !markedIdempotent(this.#req, this.#context.retry))
      return undefined;
    return this.#nextTarget();
  }

  #nextTarget(): FrontTarget | undefined {
    return this.#route.find(
      (target) => target !== this.#target && target.enabled && target.healthy !== false,
    );
  }

  /** Answers with the front's own short message, or cuts the answer when its head has gone already. */
  #answer(status: number, message: string, why?: FrontOutcome): void {
    const res = this.#res;
    const outcome: FrontOutcome = why ?? (this.#target === undefined ? "no-region" : "failed");
    if (res.headersSent || res.destroyed) {
      res.destroy();
      this.#finish(res.destroyed && !res.headersSent ? "client-closed" : outcome);
      return;
    }
    sendPlain(res, status, message);
    this.#finish(outcome);
  }

  #finish(outcome: FrontOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#context.inFlight.delete(this);
    this.#context.metrics.count(this.#target?.name ?? NO_REGION, outcome);
  }

  readonly #onClientClose = (): void => {
    if (this.#finished) return;
    this.#finish("client-closed");
    this.#abort?.();
  };
}
