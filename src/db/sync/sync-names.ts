import { createHash } from "node:crypto";
import type { Colour } from "../../colour.js";

/**
 * The names of cutover's replication objects for one service and one pair of databases: a publication of
 * the service's schema on each database, and per direction a subscription on the follower with a slot of
 * the same name on the source. Slot names are cluster-wide, so the name carries the service, a short hash
 * of the two databases (staging and production of one service may share a cluster) and the direction.
 */
export class SyncNames {
  readonly publication: string;
  readonly #all: ReadonlySet<string>;

  /** `databases`: where each colour's database is, without secrets (host, port, name). */
  constructor(service: string, databases: Readonly<Record<Colour, string>>) {
    const safe = service
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, "_")
      .slice(0, 30);
    const pair = createHash("sha256")
      .update(`${databases.blue}\n${databases.green}`)
      .digest("hex")
      .slice(0, 6);
    this.publication = `cutover_${safe}_${pair}`;
    this.#all = new Set([this.subscription("blue", "green"), this.subscription("green", "blue")]);
  }

  /** Of the subscription on `to`'s database, and of its slot on `from`'s. */
  subscription(from: Colour, to: Colour): string {
    return `${this.publication}_${from}_to_${to}`;
  }

  /** Whether `name` (a slot or subscription) is one of these databases' (exactly: no other service's). */
  owns(name: string): boolean {
    return this.#all.has(name);
  }
}

/** A database's place without its password: host, port and name, for the names' hash. */
export function databasePlace(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return url;
  }
}
