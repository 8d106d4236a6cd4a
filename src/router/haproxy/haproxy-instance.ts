import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { COLOURS, type Colour, isColour } from "../../colour.js";
import type { Address } from "../../config/schema.js";
import { CutoverError } from "../../errors.js";
import { freePort } from "../../process/free-port.js";
import { HaproxyAdminSocket } from "./haproxy-admin-socket.js";
import { findHaproxy } from "./haproxy-binary.js";
import { type HaproxyTimeouts, renderColourMap, renderHaproxyConfig } from "./haproxy-config.js";
import { BACKEND_ROLES, type HaproxyNames, MAP_KEYS } from "./haproxy-names.js";
import { HaproxyProcess } from "./haproxy-process.js";
import { HaproxyRuntime } from "./haproxy-runtime.js";
import type { SlotStats } from "./haproxy-stats.js";

/** The running HAProxy is not set up the way cutover drives it. */
export class HaproxyConfigMismatchError extends CutoverError {
  constructor(socketPath: string, missing: string) {
    super(
      "HAPROXY_CONFIG_MISMATCH",
      `the HAProxy behind ${socketPath} has no ${missing}; load the config cutover renders for this service (renderHaproxyConfig) into it and restart it once`,
    );
    this.name = "HaproxyConfigMismatchError";
  }
}

/** A folder HAProxy's config cannot name (spaces, quotes) or a socket path too long for a unix socket. */
export class HaproxyPathError extends CutoverError {
  constructor(path: string, why: string) {
    super("HAPROXY_PATH", `cannot run HAProxy with files in ${path}: ${why}; use another stateDir`);
    this.name = "HaproxyPathError";
  }
}

/** cutover starts a HAProxy of its own, with its files in `dir`. */
export interface StartHaproxy {
  readonly kind: "start";
  /** Where the config, colour map, admin socket and HAProxy's log go. */
  readonly dir: string;
  /** The binary's name or path. Default "haproxy". */
  readonly binary?: string;
  /** nbthread; default: HAProxy's own (one thread per CPU). */
  readonly threads?: number | null;
}

/** cutover drives a HAProxy that runs already (with the config cutover renders), through its admin socket. */
export interface AttachHaproxy {
  readonly kind: "attach";
  readonly socket: string;
}

export type HaproxySource = StartHaproxy | AttachHaproxy;

export interface InstanceSettings {
  readonly names: HaproxyNames;
  readonly listen: Address;
  readonly preview: Address | null;
  readonly slots: number;
  readonly sticky: boolean;
  readonly active: Colour;
  readonly timeouts: HaproxyTimeouts;
}

/** A HAProxy cutover can drive, started or attached. */
export interface HaproxyInstance {
  readonly runtime: HaproxyRuntime;
  readonly mapPath: string;
  /** null when cutover attached to a HAProxy it did not start. */
  readonly process: HaproxyProcess | null;
  readonly listen: Address;
  readonly preview: Address | null;
  /** Server slots per backend. */
  readonly slots: number;
  /** The colour the main frontend serves now. */
  readonly active: Colour;
  /** What the slots held already (a HAProxy attached to); empty for one just started. */
  readonly existing: Readonly<Record<Colour, readonly SlotStats[]>>;
}

const SAFE_PATH = /^[\w./@-]+$/;
const MAX_SOCKET_PATH = 100;

/** Writes the config and colour map once, starts HAProxy, waits for its admin socket. */
export async function startHaproxy(source: StartHaproxy, s: InstanceSettings): Promise<HaproxyInstance> {
  const binary = findHaproxy(source.binary ?? "haproxy");
  const dir = resolve(source.dir);
  const socketPath = join(dir, "admin.sock");
  if (!SAFE_PATH.test(dir)) throw new HaproxyPathError(dir, "only letters, digits and . / _ @ - are allowed");
  if (socketPath.length > MAX_SOCKET_PATH)
    throw new HaproxyPathError(dir, "the admin socket path is too long");
  mkdirSync(dir, { recursive: true });
  const listen = await withPort(s.listen, new Set());
  const preview = s.preview === null ? null : await withPort(s.preview, new Set([listen.port]));
  const mapPath = join(dir, s.names.mapFileName);
  const configFile = join(dir, "haproxy.cfg");
  writeAtomically(mapPath, renderColourMap(s.active));
  const config = { ...s, listen, preview, socketPath, mapPath, threads: source.threads ?? null };
  writeAtomically(configFile, renderHaproxyConfig(config));
  const socket = new HaproxyAdminSocket(socketPath);
  const haproxy = await HaproxyProcess.start({
    binary: binary.path,
    configFile,
    logFile: join(dir, "haproxy.log"),
    socket,
    cwd: dir,
  });
  const existing = { blue: [], green: [] };
  return {
    runtime: new HaproxyRuntime(socket, s.names),
    mapPath,
    process: haproxy,
    listen,
    preview,
    slots: s.slots,
    active: s.active,
    existing,
  };
}

/** Finds cutover's colour map and backends in a running HAProxy and reads what they hold. */
export async function attachHaproxy(source: AttachHaproxy, s: InstanceSettings): Promise<HaproxyInstance> {
  const runtime = new HaproxyRuntime(new HaproxyAdminSocket(source.socket), s.names);
  const mapPath = (await runtime.mapFiles()).find((file) => basename(file) === s.names.mapFileName);
  if (mapPath === undefined)
    throw new HaproxyConfigMismatchError(source.socket, `map ${s.names.mapFileName}`);
  const active = (await runtime.mapEntries(mapPath)).get(MAP_KEYS.live);
  if (!isColour(active))
    throw new HaproxyConfigMismatchError(source.socket, `"${MAP_KEYS.live}" entry in ${mapPath}`);
  const rows = await runtime.rows();
  const roles = s.preview === null ? (["live"] as const) : BACKEND_ROLES;
  for (const role of roles) {
    for (const colour of COLOURS) {
      const backend = s.names.backend(role, colour);
      if (!rows.some((row) => row.pxname === backend))
        throw new HaproxyConfigMismatchError(source.socket, `backend ${backend}`);
    }
  }
  const stats = await runtime.stats();
  const live = (colour: Colour) => stats[colour].slots.filter((slot) => slot.role === "live");
  const slots = Math.min(...COLOURS.map((colour) => live(colour).length));
  if (slots === 0) throw new HaproxyConfigMismatchError(source.socket, "server slots s1..sN in its backends");
  const existing = { blue: live("blue"), green: live("green") };
  return { runtime, mapPath, process: null, listen: s.listen, preview: s.preview, slots, active, existing };
}

/** `address` with port 0 replaced by a free port (HAProxy cannot report the port it picked). */
async function withPort(address: Address, taken: ReadonlySet<number>): Promise<Address> {
  return address.port !== 0 ? address : { host: address.host, port: await freePort(address.host, taken) };
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}
