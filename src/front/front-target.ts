import type { Dispatcher } from "undici";

/**
 * Where a front sends a request: a region (`cutover global`) or one service's router (`cutover edge`). The
 * exchange reads only this much of it.
 */
export interface FrontTarget {
  readonly name: string;
  /** Keep-alive connections to it. */
  readonly pool: Dispatcher;
  /** Put before every request's path ("" for none). */
  readonly basePath: string;
  /** False once it takes no new requests (drained): never chosen to send a request on to. */
  readonly enabled: boolean;
  /** True healthy, false failing (never chosen to send a request on to), null not known. */
  readonly healthy: boolean | null;
}

/** How a front names itself and its targets in the answers it makes itself, and who answered in a header. */
export interface FrontWords {
  /** Itself, in a sentence: "the global front". */
  readonly self: string;
  /** What its targets are: "region". */
  readonly target: string;
  /** The response header that names the target that answered (lower case). */
  readonly header: string;
}
