/**
 * The mirror's thread: sends the copies the router's thread hands it, reads each answer's status, throws
 * the body away, and reports what became of them in batches. The live proxy's event loop so never spends
 * a turn on shadow traffic beyond one postMessage a copy.
 */
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import { type Dispatcher, Pool } from "undici";
import type { Colour } from "../colour.js";

/** A copy to send; from the router's thread. */
export interface CopyJob {
  readonly kind: "copy";
  readonly colour: Colour;
  /** http://host:port of the replica the router picked. */
  readonly origin: string;
  readonly path: string;
  readonly method: string;
  readonly headers: readonly string[];
  readonly timeoutMs: number;
}

/** Cut every copy in flight and drop the connections (mirroring was turned off or changed). */
export interface CancelJob {
  readonly kind: "cancel";
}

/** What became of copies: [colour, status (0: cancelled, 502: no answer in time), seconds]. */
export interface CopyReport {
  readonly done: ReadonlyArray<readonly [Colour, number, number]>;
}

/** Reports are sent at most this often, so the router's thread reads a handful of messages a second. */
const REPORT_EVERY_MS = 100;

const port = parentPort;
if (port === null) throw new Error("mirror-worker.js runs as a worker thread of the router");

const pools = new Map<string, Pool>();
const inFlight = new Set<Copy>();
let done: Array<[Colour, number, number]> = [];

function report(entry: [Colour, number, number]): void {
  done.push(entry);
  if (done.length > 1) return; // a report is already due
  setTimeout(() => {
    const batch: CopyReport = { done };
    done = [];
    port?.postMessage(batch);
  }, REPORT_EVERY_MS);
}

function pool(origin: string): Pool {
  let found = pools.get(origin);
  if (found === undefined) {
    found = new Pool(origin, { connections: 32, pipelining: 1 });
    pools.set(origin, found);
  }
  return found;
}

/** One copy in flight: an undici handler that reads the status and throws the body away. */
class Copy implements Dispatcher.DispatchHandlers {
  readonly #colour: Colour;
  readonly #started = performance.now();
  #abort: ((error?: Error) => void) | null = null;
  #status = 0;
  #finished = false;

  constructor(colour: Colour) {
    this.#colour = colour;
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.#finished) abort();
    else this.#abort = abort;
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode >= 200) this.#status = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.finish(this.#status);
  }

  onError(): void {
    this.finish(502);
  }

  cancel(): void {
    if (this.#finished) return;
    this.finish(0);
    this.#abort?.();
  }

  finish(status: number): void {
    if (this.#finished) return;
    this.#finished = true;
    inFlight.delete(this);
    report([this.#colour, status, (performance.now() - this.#started) / 1000]);
  }
}

port.on("message", (job: CopyJob | CancelJob) => {
  if (job.kind === "cancel") {
    for (const copy of [...inFlight]) copy.cancel();
    // Replicas come and go with deploys: start the next mirroring with fresh pools.
    for (const old of pools.values()) void old.destroy().catch(() => undefined);
    pools.clear();
    return;
  }
  const copy = new Copy(job.colour);
  inFlight.add(copy);
  try {
    pool(job.origin).dispatch(
      {
        path: job.path,
        method: job.method as Dispatcher.HttpMethod,
        headers: [...job.headers],
        headersTimeout: job.timeoutMs,
        bodyTimeout: job.timeoutMs,
      },
      copy,
    );
  } catch {
    copy.onError();
  }
});
