import type { Server } from "node:http";
import type { Address } from "../config/schema.js";
import { CutoverError } from "../errors.js";
import { hostPort } from "../host-port.js";
import { ListenError, listen } from "../router/listen.js";

/** Binds one of the front's servers to globalFront.<field>; a failure says what to change. */
export async function listenFront(
  server: Server,
  address: Address,
  field: "listen" | "admin",
): Promise<Address> {
  try {
    return await listen(server, address, field);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    const where = hostPort(address.host, address.port);
    const why =
      error.errno.code === "EADDRINUSE"
        ? `${where} is already in use (another \`cutover global\`?); stop what listens there or change globalFront.${field}`
        : `${where}: ${error.errno.message}; check globalFront.${field}`;
    throw new CutoverError("ROUTER_LISTEN_FAILED", `the global front cannot listen: ${why} in cutover.yaml`);
  }
}
