import { connect, type NetConnectOpts, type Socket } from "node:net";
import type { buildConnector } from "undici";

/** What `router.warmConnections` is typically set to: a few per replica, enough for a switch's first requests. */
export const WARM_CONNECTIONS = 8;
/** Wait before opening again after a warm connection failed or was closed unused (a refusing replica). */
const REFILL_DELAY_MS = 1_000;

const ignore = (): void => {};

/**
 * A few TCP connections to one replica, opened ahead of any request and kept idle, so that the first
 * requests a colour gets (after a switch, or to a replica just added) do not wait for connection set-up.
 * The replica's pool (upstream.ts) takes them through `connector()` and opens its own once they are gone;
 * one taken is replaced at once. One that fails or that the replica closes is replaced a second later.
 * Bounded by `size`; `close()` ends them all. A warm connection carries no request, so drain never waits on it.
 */
export class WarmSockets {
  readonly #host: string;
  readonly #port: number;
  readonly #size: number;
  readonly #connectMs: number;
  readonly #connecting = new Set<Socket>();
  readonly #idle = new Set<Socket>();
  #refill: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(host: string, port: number, size: number, connectMs: number) {
    this.#host = host;
    this.#port = port;
    this.#size = size;
    this.#connectMs = connectMs;
    this.#fill();
  }

  /** Connections open and waiting to be taken. */
  get idle(): number {
    return this.#idle.size;
  }

  /** An open idle connection, now the caller's; undefined when none is ready. Starts its replacement. */
  take(): Socket | undefined {
    let taken: Socket | undefined;
    for (const socket of this.#idle) {
      this.#idle.delete(socket);
      socket.removeListener("close", this.#onIdleClose);
      // Bytes from a replica on a connection that carried no request: it cannot carry one now.
      if (socket.destroyed || !socket.writable || socket.readableLength > 0) {
        socket.destroy();
        continue;
      }
      // Idle, it did not hold the process open; carrying a request, it does (as undici's own).
      taken = socket.ref();
      break;
    }
    this.#fill();
    return taken;
  }

  /**
   * undici's connector for the replica's pool: a warm connection when there is one, else `fallback` (a new
   * connection, as undici opens them).
   */
  connector(fallback: buildConnector.connector): buildConnector.connector {
    return (options, callback) => {
      const socket = this.take();
      if (socket === undefined) fallback(options, callback);
      else callback(null, socket);
    };
  }

  /** Closes every warm connection and opens no more. */
  close(): void {
    this.#closed = true;
    if (this.#refill !== null) clearTimeout(this.#refill);
    this.#refill = null;
    for (const socket of [...this.#connecting, ...this.#idle]) socket.destroy();
    this.#connecting.clear();
    this.#idle.clear();
  }

  #fill(): void {
    while (!this.#closed && this.#refill === null && this.#connecting.size + this.#idle.size < this.#size)
      this.#open();
  }

  #open(): void {
    // As undici opens its own (lib/core/connect.js): 64 KiB reads, no Nagle, TCP keep-alive after 60 s.
    const options: NetConnectOpts & { highWaterMark: number } = {
      host: this.#host,
      port: this.#port,
      highWaterMark: 64 * 1024,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
    };
    const socket = connect(options).unref();
    this.#connecting.add(socket);
    // Errors end in "close"; this listener stays for good, so that one never goes unheard once taken.
    socket.on("error", ignore);
    const tooSlow = (): void => void socket.destroy();
    socket.setTimeout(this.#connectMs, tooSlow);
    socket.once("close", this.#onIdleClose);
    socket.once("connect", () => {
      socket.setTimeout(0, tooSlow);
      this.#connecting.delete(socket);
      this.#idle.add(socket);
    });
  }

  /** A warm connection failed or was closed before it was taken: open another a little later. */
  readonly #onIdleClose = (): void => {
    for (const set of [this.#connecting, this.#idle])
      for (const socket of set) if (socket.destroyed) set.delete(socket);
    if (this.#closed || this.#refill !== null) return;
    this.#refill = setTimeout(() => {
      this.#refill = null;
      this.#fill();
    }, REFILL_DELAY_MS);
    this.#refill.unref();
  };
}
