import { type ClientHttp2Session, connect } from "node:http2";

/** The receive window of a whole session to a replica (a stream keeps HTTP/2's 64 KiB default). */
const CONNECTION_WINDOW_BYTES = 4 * 1024 * 1024;

/** The error a session that could not connect in time is destroyed with; its pending streams carry it as cause. */
export class H2cConnectTimeoutError extends Error {
  readonly code = "H2C_CONNECT_TIMEOUT";

  constructor(timeoutMs: number) {
    super(`no HTTP/2 connection to the replica within ${timeoutMs}ms`);
    this.name = "H2cConnectTimeoutError";
  }
}

/**
 * The HTTP/2 cleartext (h2c, prior knowledge) session to one replica: one connection that carries every
 * request to it as a stream of its own. Opened on first use and opened again on the next use after it
 * closed (the replica restarted, went away, or sent GOAWAY); requests in flight on a session that closes
 * fail with it, and the exchange decides whether one may be sent again.
 */
export class H2cSession {
  readonly #authority: string;
  readonly #connectTimeoutMs: number;
  #session: ClientHttp2Session | null = null;
  /** Every session not yet closed: the current one, and older ones still finishing streams after GOAWAY. */
  readonly #open = new Set<ClientHttp2Session>();
  #closed = false;

  /** `authority`: "host:port" of the replica. */
  constructor(authority: string, connectTimeoutMs: number) {
    this.#authority = authority;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** The session to send the next request on; null once close() or destroy() was called. */
  current(): ClientHttp2Session | null {
    if (this.#closed) return null;
    const session = this.#session;
    // A session that received GOAWAY is closed: it finishes its streams but takes no new ones.
    if (session !== null && !session.closed && !session.destroyed) return session;
    return this.#connect();
  }

  /** Takes no new requests; the session ends once the streams on it have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#session = null;
    const sessions = [...this.#open];
    // A session already closing (GOAWAY) takes no close() of ours, but still emits 'close' at its end.
    const closed = sessions.map((session) => new Promise((resolve) => session.once("close", resolve)));
    for (const session of sessions) session.close();
    await Promise.all(closed);
  }

  /** Closes the connection now, failing what is still running on it. */
  async destroy(): Promise<void> {
    this.#closed = true;
    this.#session = null;
    const sessions = [...this.#open];
    const closed = sessions.map((session) => new Promise((resolve) => session.once("close", resolve)));
    for (const session of sessions) session.destroy();
    await Promise.all(closed);
  }

  #connect(): ClientHttp2Session {
    const session = connect(`http://${this.#authority}`);
    this.#session = session;
    this.#open.add(session);
    const timer = setTimeout(
      () => session.destroy(new H2cConnectTimeoutError(this.#connectTimeoutMs)),
      this.#connectTimeoutMs,
    );
    session.once("connect", () => {
      clearTimeout(timer);
      // One connection carries every request to the replica: a connection-level flow-control window of 64 KiB
      // (HTTP/2's default) would make concurrent answers wait on each other.
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    });
    // A replica that sent GOAWAY (a graceful shutdown) finishes the streams it has; new ones go on a new session.
    session.on("goaway", () => {
      if (this.#session === session) this.#session = null;
    });
    // A session's error reaches each of its streams, where the exchange counts and answers it.
    session.on("error", () => undefined);
    session.once("close", () => {
      clearTimeout(timer);
      this.#open.delete(session);
      if (this.#session === session) this.#session = null;
    });
    return session;
  }
}
