import { STATUS_CODES } from "node:http";

/** The edge's own answer on a socket an upgrade took over (no ServerResponse there): short plain text. */
export function rawPlain(status: number, message: string): string {
  const body = `${message}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    "content-type: text/plain; charset=utf-8\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    "cache-control: no-store\r\n" +
    (status === 503 ? "retry-after: 1\r\n" : "") +
    "connection: close\r\n\r\n" +
    body
  );
}

/** 421: no service answers for this host. */
export function misdirected(host: string): string {
  return host === ""
    ? "the request names no host (Host header); this edge answers only for its services' host names"
    : `no service on this edge answers for host ${host}`;
}

/** 404: the host has services, none for this path. */
export function noPath(host: string, url: string): string {
  const path = url.split("?")[0];
  return `no service on this edge answers for ${path} on host ${host}`;
}

/** 400: a path the edge will not route (a dot-segment, an encoded slash or dot); `why` from unsafePath. */
export function badPath(url: string, why: string): string {
  return `the path ${url.split("?")[0]} ${why}`;
}
