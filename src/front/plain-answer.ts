import type { ServerResponse } from "node:http";

/** The front's own answer: a short plain-text message (no healthy region, a region failed). */
export function sendPlain(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...(status === 503 ? { "retry-after": "1" } : {}),
  });
  res.end(body);
}
