import type { Server } from "node:http";
import type { Address } from "../config/address.js";
import { CutoverError } from "../errors.js";
import { hostPort } from "../host-port.js";
import { ListenError, listen } from "../router/listen.js";

/**
 * Binds one of the edge's servers to the address its file gives as `field`, as the router binds its own
 * (router/listen.ts); a failure names the edge's file and field, not cutover.yaml's, and says what to change.
 */
export async function listenEdge(
  server: Server,
  address: Address,
  field: string,
  file: string,
): Promise<Address> {
  // ListenError's message speaks of router.<field> in cutover.yaml: its errno says it the edge's way.
  try {
    return await listen(server, address, field);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    const cause = error.errno;
    const where = hostPort(address.host, address.port);
    const why =
      cause.code === "EADDRINUSE"
        ? `${where} is already in use (a router of a service, another edge?); stop what listens there or change ${field} in ${file}`
        : cause.code === "EACCES"
          ? `${where} needs privileges to bind (ports below 1024); run the edge with CAP_NET_BIND_SERVICE, or use a port above 1023 for ${field} in ${file}`
          : `${where}: ${cause.message}; check ${field} in ${file}`;
    throw new CutoverError("ROUTER_LISTEN_FAILED", `the edge cannot listen: ${why}`);
  }
}
