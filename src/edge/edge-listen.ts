import type { AddressInfo, Server } from "node:net";
import type { Address } from "../config/address.js";
import { CutoverError } from "../errors.js";
import { hostPort } from "../host-port.js";

/** Binds one of the edge's servers to the address its file gives as `field`; a failure says what to change. */
export function listenEdge(server: Server, address: Address, field: string, file: string): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const where = hostPort(address.host, address.port);
      const why =
        error.code === "EADDRINUSE"
          ? `${where} is already in use (a router of a service, another edge?); stop what listens there or change ${field} in ${file}`
          : error.code === "EACCES"
            ? `${where} needs privileges to bind (ports below 1024); run the edge with CAP_NET_BIND_SERVICE, or use a port above 1023 for ${field} in ${file}`
            : `${where}: ${error.message}; check ${field} in ${file}`;
      reject(new CutoverError("ROUTER_LISTEN_FAILED", `the edge cannot listen: ${why}`));
    };
    server.once("error", onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.removeListener("error", onError);
      resolve({ host: address.host, port: (server.address() as AddressInfo).port });
    });
  });
}
