import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Address } from "../config/schema.js";
import { CutoverError } from "../errors.js";

/** A router listener could not bind its address. */
export class ListenError extends CutoverError {
  readonly address: Address;
  /** The bind's own error (EADDRINUSE, EACCES, ...), for callers that word the failure their own way. */
  readonly errno: NodeJS.ErrnoException;
  constructor(role: string, address: Address, cause: NodeJS.ErrnoException) {
    const where = `${address.host}:${address.port}`;
    const why =
      cause.code === "EADDRINUSE"
        ? `${where} is already in use; stop what listens there or change router.${role} in cutover.yaml`
        : cause.code === "EACCES"
          ? `${where} needs privileges to bind; use a port above 1023 for router.${role} in cutover.yaml`
          : `${where}: ${cause.message}; check router.${role} in cutover.yaml`;
    super("ROUTER_LISTEN_FAILED", `the router cannot listen for ${role} traffic: ${why}`);
    this.name = "ListenError";
    this.address = address;
    this.errno = cause;
  }
}

/** Binds `server` to `address` (port 0 picks a free port); resolves with the address actually bound. */
export function listen(server: Server, address: Address, role: string): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(new ListenError(role, address, error));
    server.once("error", onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.removeListener("error", onError);
      const bound = server.address() as AddressInfo;
      resolve({ host: address.host, port: bound.port });
    });
  });
}

/** The open connections of servers that cannot close them themselves (an HTTP/2 server has no closeAllConnections). */
const tracked = new WeakMap<Server, Set<Socket>>();

/** Keeps a list of `server`'s open connections, for closeServer. */
export function trackConnections(server: Server): void {
  const sockets = new Set<Socket>();
  tracked.set(server, sockets);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
}

/** Stops accepting, closes every connection still open, resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    const sockets = tracked.get(server);
    if (sockets) for (const socket of sockets) socket.destroy();
    else server.closeAllConnections();
  });
}
