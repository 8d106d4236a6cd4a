import type { Colour } from "../../colour.js";
import type { Endpoint } from "../../engine/ports/platform.js";
import { CutoverError } from "../../errors.js";

/** A colour has more replicas in rotation than its backends have server slots. */
export class SlotsExhaustedError extends CutoverError {
  constructor(colour: Colour, wanted: number, slots: number) {
    super(
      "HAPROXY_SLOTS_EXHAUSTED",
      `${colour} needs ${wanted} servers in rotation but its HAProxy backends have ${slots} server slots; raise the slots of the HAProxy data plane (cutover writes them into the HAProxy config) and restart it`,
    );
    this.name = "SlotsExhaustedError";
  }
}

/** A slot that takes a replica: given a new address first when `readdress`. */
export interface SlotAssignment {
  readonly slot: number;
  readonly host: string;
  readonly port: number;
  readonly readdress: boolean;
}

/** What to change in the backends of a colour so that exactly the wanted replicas are in rotation. */
export interface SlotPlan {
  /** Put in rotation first, so the colour never has fewer replicas than both sets share. */
  readonly assign: readonly SlotAssignment[];
  /** Then taken out of rotation (their requests in flight go on). */
  readonly release: readonly number[];
}

interface Slot {
  /** "host:port" the slot points at in HAProxy; null while it was never given one. */
  address: string | null;
  inRotation: boolean;
  /** When it left rotation, in plans made: the slot idle longest is readdressed first. */
  releasedAt: number;
}

const key = (host: string, port: number) => `${host}:${port}`;

/**
 * Which server slot of a colour's backends holds which replica, keyed by address. A replica keeps its slot
 * while it stays in rotation; one that comes back gets its old slot again when that is still free; a new one
 * takes a slot that never had an address, else the one out of rotation longest.
 */
export class SlotTable {
  readonly colour: Colour;
  readonly #slots: Slot[];
  #plans = 0;

  constructor(colour: Colour, size: number) {
    this.colour = colour;
    this.#slots = Array.from({ length: size }, () => ({ address: null, inRotation: false, releasedAt: 0 }));
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Slots in rotation, 1-based. */
  inRotation(): number[] {
    return this.#slots.flatMap((slot, i) => (slot.inRotation ? [i + 1] : []));
  }

  /** Records what HAProxy already has (when cutover attaches to a running HAProxy). */
  adopt(slot: number, address: string, inRotation: boolean): void {
    const entry = this.#slots[slot - 1];
    if (entry === undefined) return;
    entry.address = address;
    entry.inRotation = inRotation;
  }

  /** Plans (and records) the changes that put exactly `endpoints` in rotation. */
  plan(endpoints: readonly Endpoint[]): SlotPlan {
    this.#plans++;
    const wanted = new Map(endpoints.map((e) => [key(e.host, e.port), e]));
    if (wanted.size > this.#slots.length) throw new SlotsExhaustedError(this.colour, wanted.size, this.size);
    const release: number[] = [];
    this.#slots.forEach((slot, i) => {
      if (!slot.inRotation) return;
      if (slot.address !== null && wanted.has(slot.address)) wanted.delete(slot.address);
      else {
        slot.inRotation = false;
        slot.releasedAt = this.#plans;
        release.push(i + 1);
      }
    });
    const assign: SlotAssignment[] = [];
    for (const [address, endpoint] of wanted) {
      const index = this.#freeSlotFor(address);
      const slot = this.#slots[index] as Slot;
      assign.push({
        slot: index + 1,
        host: endpoint.host,
        port: endpoint.port,
        readdress: slot.address !== address,
      });
      slot.address = address;
      slot.inRotation = true;
    }
    return { assign, release };
  }

  #freeSlotFor(address: string): number {
    const free = this.#slots.flatMap((slot, i) => (slot.inRotation ? [] : [i]));
    const same = free.find((i) => this.#slots[i]?.address === address);
    if (same !== undefined) return same;
    const unused = free.find((i) => this.#slots[i]?.address === null);
    if (unused !== undefined) return unused;
    const oldest = free.sort(
      (a, b) => (this.#slots[a]?.releasedAt ?? 0) - (this.#slots[b]?.releasedAt ?? 0),
    )[0];
    if (oldest === undefined)
      throw new SlotsExhaustedError(this.colour, this.inRotation().length + 1, this.size);
    return oldest;
  }
}
