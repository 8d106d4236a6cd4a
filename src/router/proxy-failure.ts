import type { ServerResponse } from "node:http";
import type { Colour } from "../colour.js";
import { COLOUR_HEADER } from "./response-headers.js";

/** Why the router answered a request itself instead of a replica. */
export const PROXY_FAILURES = [
  "no-replica",
  "upstream-failed",
  "upstream-timeout",
  "drained",
  "bad-request",
  "hold-full",
] as const;
export type ProxyFailure = (typeof PROXY_FAILURES)[number];

interface FailureTemplate {
  readonly status: number;
  readonly error: string;
  readonly hint: (colour: Colour) => string;
  /** Sent as Retry-After (seconds) when set: the client may try again that soon. */
  readonly retryAfterS?: number;
}

const TEMPLATES: Readonly<Record<ProxyFailure, FailureTemplate>> = {
  "no-replica": {
    status: 503,
    error: "no healthy replica",
    hint: (colour) =>
      `no replica of ${colour} is in rotation; check \`cutover status\` and the replica logs, or deploy a version to ${colour}`,
  },
  "upstream-failed": {
    status: 502,
    error: "upstream failed",
    hint: (colour) => `a replica of ${colour} did not answer properly; check its logs and \`cutover status\``,
  },
  "upstream-timeout": {
    status: 504,
    error: "upstream timed out",
    hint: (colour) => `a replica of ${colour} took too long to answer; check its logs and its latency`,
  },
  drained: {
    status: 503,
    error: "request cancelled by drain",
    hint: (colour) =>
      `${colour} was drained after a switch and this request outlived the drain timeout; retry it`,
  },
  "bad-request": {
    status: 400,
    error: "bad request",
    hint: () => "the request cannot be forwarded as sent",
  },
  "hold-full": {
    status: 503,
    error: "too many requests held",
    hint: () =>
      "traffic is paused (`cutover pause` or a database switchover) and the router holds as many requests as it may; retry shortly",
    retryAfterS: 1,
  },
};

export function failureStatus(failure: ProxyFailure): number {
  return TEMPLATES[failure].status;
}

/** The JSON body of the router's own answer: { error, colour, hint, detail? }. */
export function failureBody(failure: ProxyFailure, colour: Colour, detail?: string): string {
  const template = TEMPLATES[failure];
  return JSON.stringify({ error: template.error, colour, hint: template.hint(colour), detail });
}

/** Answers `res` with the router's JSON for `failure`. Returns the status sent. */
export function sendFailure(
  res: ServerResponse,
  failure: ProxyFailure,
  colour: Colour,
  detail?: string,
): number {
  const { status, retryAfterS } = TEMPLATES[failure];
  const body = failureBody(failure, colour, detail);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    [COLOUR_HEADER]: colour,
    ...(retryAfterS === undefined ? {} : { "retry-after": String(retryAfterS) }),
  });
  res.end(body);
  return status;
}

/** The same answer as raw HTTP/1.1 bytes, for a socket taken over by an upgrade. */
export function rawFailure(failure: ProxyFailure, colour: Colour, detail?: string): string {
  const { status, error, retryAfterS } = TEMPLATES[failure];
  const body = failureBody(failure, colour, detail);
  return (
    `HTTP/1.1 ${status} ${error}\r\n` +
    "content-type: application/json\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `${COLOUR_HEADER}: ${colour}\r\n` +
    (retryAfterS === undefined ? "" : `retry-after: ${retryAfterS}\r\n`) +
    "connection: close\r\n\r\n" +
    body
  );
}
