import { readFileSync } from "node:fs";

/**
 * The local addresses listening on `port`, from the kernel's own table of IPv4 TCP sockets
 * (/proc/net/tcp, state 0A = LISTEN), as the kernel writes them: "0100007F:1F90" is 127.0.0.1:8080.
 */
export function listeningAddresses(port: number): string[] {
  const hexPort = hexOfPort(port);
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === "0A")
    .map((f) => f[1] as string);
}

/** The port as /proc/net/tcp writes it: four upper-case hex digits. */
export function hexOfPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, "0");
}
