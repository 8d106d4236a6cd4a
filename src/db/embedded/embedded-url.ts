import { hostPort } from "../../host-port.js";

/** The URL of the embedded database's wire server: postgres://postgres@host:port/postgres. */
export function embeddedUrl(host: string, port: number): string {
  return `postgres://postgres@${hostPort(host, port)}/postgres`;
}
