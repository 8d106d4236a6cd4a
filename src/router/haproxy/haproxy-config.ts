import { COLOURS, type Colour, otherColour } from "../../colour.js";
import type { Address } from "../../config/schema.js";
import { failureBody, type ProxyFailure } from "../proxy-failure.js";
import { COLOUR_HEADER } from "../response-headers.js";
import { BACKEND_ROLES, type BackendRole, type HaproxyNames, MAP_KEYS } from "./haproxy-names.js";

export interface HaproxyTimeouts {
  /** A connection to a replica must open within this. */
  readonly connectMs: number;
  /** Longest silence from a replica: before its response head, and between two chunks of its body. */
  readonly serverMs: number;
  /** Longest silence from a client in the middle of a request. */
  readonly clientMs: number;
  /** Longest silence on a WebSocket (or other upgraded connection). */
  readonly tunnelMs: number;
  /** How long an idle keep-alive connection from a client stays open. */
  readonly keepAliveMs: number;
}

export const DEFAULT_HAPROXY_TIMEOUTS: HaproxyTimeouts = {
  connectMs: 5_000,
  serverMs: 300_000,
  clientMs: 300_000,
  tunnelMs: 3_600_000,
  keepAliveMs: 60_000,
};

export interface HaproxyConfigOptions {
  readonly names: HaproxyNames;
  readonly listen: Address;
  /** null: no preview frontend. */
  readonly preview: Address | null;
  /** The admin socket cutover drives HAProxy through. */
  readonly socketPath: string;
  /** The colour map file (see renderColourMap); the frontends read it on every request. */
  readonly mapPath: string;
  /** Server slots per backend: the most replicas of a colour in rotation at once, plus room to replace them. */
  readonly slots: number;
  /** Send each client address to the same replica (balance source) instead of round robin. */
  readonly sticky: boolean;
  /** nbthread; null leaves HAProxy's default (one thread per CPU). */
  readonly threads: number | null;
  readonly timeouts: HaproxyTimeouts;
}

/**
 * The HAProxy config cutover writes once. Everything that changes later (which colour each frontend
 * serves, which replicas are in rotation, drains) is changed through the runtime API, never by a reload:
 * the frontends pick their backend per request from the colour map, and each backend has `slots`
 * server slots that start disabled and are given an address when a replica joins.
 */
export function renderHaproxyConfig(o: HaproxyConfigOptions): string {
  const lines = [
    `# Written by cutover. cutover changes the active colour and the servers of each backend through the`,
    `# runtime API on ${o.socketPath}; it never reloads HAProxy. Restart HAProxy only to change this file.`,
    "global",
    `  stats socket ${quoteArg(o.socketPath)} mode 600 level admin`,
    "  stats timeout 2m",
    ...(o.threads === null ? [] : [`  nbthread ${o.threads}`]),
    "",
    "defaults",
    "  mode http",
    "  option http-keep-alive",
    "  option forwardfor",
    "  retries 1",
    "  option redispatch 1",
    `  timeout connect ${o.timeouts.connectMs}ms`,
    `  timeout server ${o.timeouts.serverMs}ms`,
    `  timeout client ${o.timeouts.clientMs}ms`,
    `  timeout tunnel ${o.timeouts.tunnelMs}ms`,
    `  timeout http-keep-alive ${o.timeouts.keepAliveMs}ms`,
    "  timeout http-request 30s",
    "",
    ...frontend(o, "live", o.listen),
    ...(o.preview === null ? [] : frontend(o, "preview", o.preview)),
    ...BACKEND_ROLES.flatMap((role) => COLOURS.flatMap((colour) => backend(o, role, colour))),
  ];
  return `${lines.join("\n")}\n`;
}

/** The colour map: the main frontend serves `active`, the preview frontend the other colour. */
export function renderColourMap(active: Colour): string {
  return `${MAP_KEYS.live} ${active}\n${MAP_KEYS.preview} ${otherColour(active)}\n`;
}

function frontend(o: HaproxyConfigOptions, role: BackendRole, address: Address): string[] {
  const name = role === "live" ? o.names.mainFrontend : o.names.previewFrontend;
  return [
    `frontend ${name}`,
    `  bind ${bindAddress(address)}`,
    "  http-request set-header X-Forwarded-Proto http unless { req.hdr(x-forwarded-proto) -m found }",
    "  http-request set-header X-Forwarded-Host %[req.hdr(host)] if { req.hdr(host) -m found } !{ req.hdr(x-forwarded-host) -m found }",
    `  use_backend ${o.names.backendPrefix(role)}%[str(${MAP_KEYS[role]}),map(${quoteArg(o.mapPath)})]`,
    "",
  ];
}

/** HAProxy's own answers, with the same JSON bodies as the built-in router's. */
const OWN_ANSWERS: ReadonlyArray<{ readonly status: number; readonly failure: ProxyFailure }> = [
  { status: 502, failure: "upstream-failed" },
  { status: 503, failure: "no-replica" },
  { status: 504, failure: "upstream-timeout" },
];

function backend(o: HaproxyConfigOptions, role: BackendRole, colour: Colour): string[] {
  return [
    `backend ${o.names.backend(role, colour)}`,
    `  balance ${o.sticky ? "source" : "roundrobin"}`,
    `  http-after-response set-header ${COLOUR_HEADER} ${colour}`,
    ...OWN_ANSWERS.map(
      ({ status, failure }) =>
        `  http-error status ${status} content-type application/json string ${singleQuoted(failureBody(failure, colour))}`,
    ),
    `  server-template s 1-${o.slots} 127.0.0.1:1 disabled`,
    "",
  ];
}

function bindAddress(address: Address): string {
  return address.host.includes(":")
    ? `ipv6@${address.host}:${address.port}`
    : `${address.host}:${address.port}`;
}

/** A path as one config word: double-quoted when it has spaces or quotes. */
function quoteArg(value: string): string {
  return /^[\w./@-]+$/.test(value) ? value : `"${value.replace(/["\\$]/g, (c) => `\\${c}`)}"`;
}

/** Single quotes keep everything literal in HAProxy's config; a single quote itself cannot appear. */
function singleQuoted(value: string): string {
  return `'${value.replaceAll("'", "\u2019")}'`;
}
