import type { Server as HttpServer } from "node:http";
import type { ServerHttp2Session } from "node:http2";
import type { Server, Socket } from "node:net";
import type { InFlightSet } from "../router/in-flight-set.js";
import { closeServer } from "../router/listen.js";

/** The open connections and HTTP/2 sessions of the edge's servers, for the end of a graceful stop. */
export class ConnectionTracker {
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();

  track(server: Server): void {
    server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
    // Only an HTTP/2 server emits it.
    server.on("session", (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
    });
  }

  /** Tells every HTTP/2 client to open no new stream (GOAWAY); each session closes once its streams end. */
  goAway(): void {
    for (const session of this.#sessions) if (!session.closed) session.close();
  }

  destroyAll(): void {
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
  }
}

/**
 * Stops accepting on every server; lets what is in flight finish, up to `timeoutMs`, then cancels the rest
 * (503 when no answer began, cut short when one did); closes every connection left. Resolves with the number
 * cancelled.
 */
export async function closeGracefully(
  servers: readonly Server[],
  connections: ConnectionTracker,
  inFlight: InFlightSet,
  timeoutMs: number,
): Promise<number> {
  const closed = servers
    .filter((server) => server.listening)
    .map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
  for (const server of servers) (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  connections.goAway();
  const cancelled = (await inFlight.whenEmpty(timeoutMs)) ? 0 : inFlight.cancelAll();
  connections.destroyAll();
  await Promise.all(closed);
  return cancelled;
}

/**
 * Closes `servers` at once, for a start that failed part way: every connection and HTTP/2 session is
 * destroyed first, since a server's close waits for its connections and an HTTP/2 server cannot close them
 * itself. Resolves once every server is closed.
 */
export async function closeAtOnce(
  servers: readonly HttpServer[],
  connections: ConnectionTracker,
): Promise<void> {
  connections.destroyAll();
  await Promise.all(servers.map((server) => closeServer(server)));
}
