import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Colour } from "../../colour.js";
import type { HaproxyAdminSocket } from "./haproxy-admin-socket.js";
import type { BackendRole, HaproxyNames } from "./haproxy-names.js";
import { colourStats, type HaproxyStats, parseShowStat } from "./haproxy-stats.js";

/** The states cutover puts a server slot in: in rotation, draining (no new requests), out of rotation. */
export const SERVER_STATES = ["ready", "drain", "maint"] as const;
export type ServerState = (typeof SERVER_STATES)[number];

/** The runtime API commands cutover uses, in its own terms: colours, roles and slots. */
export class HaproxyRuntime {
  readonly socket: HaproxyAdminSocket;
  readonly names: HaproxyNames;

  constructor(socket: HaproxyAdminSocket, names: HaproxyNames) {
    this.socket = socket;
    this.names = names;
  }

  /** Points `key` of the colour map at `colour`: the frontend reading that key uses it from its next request. */
  setMap(mapPath: string, key: string, colour: Colour): Promise<void> {
    return this.socket.run(`set map ${mapPath} ${key} ${colour}`);
  }

  async setAddress(
    role: BackendRole,
    colour: Colour,
    slot: number,
    host: string,
    port: number,
  ): Promise<void> {
    const ip = isIP(host) ? host : (await lookup(host)).address;
    await this.socket.expect(
      `set server ${this.#server(role, colour, slot)} addr ${ip} port ${port}`,
      /changed|no need/,
    );
  }

  setState(role: BackendRole, colour: Colour, slot: number, state: ServerState): Promise<void> {
    return this.socket.run(`set server ${this.#server(role, colour, slot)} state ${state}`);
  }

  /** Closes every request and WebSocket in progress on a slot. */
  shutdownSessions(role: BackendRole, colour: Colour, slot: number): Promise<void> {
    return this.socket.run(`shutdown sessions server ${this.#server(role, colour, slot)}`);
  }

  async rows(): Promise<Array<Readonly<Record<string, string>>>> {
    return parseShowStat(await this.socket.send("show stat"));
  }

  async stats(): Promise<HaproxyStats> {
    return colourStats(await this.rows(), this.names);
  }

  /** The files of the maps HAProxy has loaded. */
  async mapFiles(): Promise<string[]> {
    const answer = await this.socket.send("show map");
    return [...answer.matchAll(/^-?\d+ \((.+?)\)/gm)].map((match) => match[1] as string);
  }

  /** The entries of a map, key to value. */
  async mapEntries(mapPath: string): Promise<Map<string, string>> {
    const answer = await this.socket.send(`show map ${mapPath}`);
    const entries = new Map<string, string>();
    for (const line of answer.split("\n")) {
      const [, key, value] = line.trim().split(/\s+/);
      if (key !== undefined && value !== undefined) entries.set(key, value);
    }
    return entries;
  }

  #server(role: BackendRole, colour: Colour, slot: number): string {
    return `${this.names.backend(role, colour)}/${this.names.server(slot)}`;
  }
}
