import type { Colour } from "../../colour.js";

/**
 * The names of cutover's replication objects for one service: a publication of the service's schema on
 * each database, and per direction a subscription on the follower with a slot of the same name on the
 * source (slot names are cluster-wide, so the direction and the service are in the name).
 */
export class SyncNames {
  readonly publication: string;

  constructor(service: string) {
    const safe = service
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, "_")
      .slice(0, 40);
    this.publication = `cutover_${safe}`;
  }

  /** Of the subscription on `to`'s database, and of its slot on `from`'s. */
  subscription(from: Colour, to: Colour): string {
    return `${this.publication}_${from}_to_${to}`;
  }

  /** Whether `name` (a slot or subscription) is one of this service's. */
  owns(name: string): boolean {
    return /_(blue|green)_to_(blue|green)$/.test(name) && name.startsWith(`${this.publication}_`);
  }
}
