/**
 * The in-flight set keeps its entries in slots of a plain array (no allocation per request): removing one
 * from the middle, twice, or one it never held must leave the others exactly as they were, for drain.
 */
import { describe, expect, it } from "vitest";
import { type InFlight, InFlightSet } from "../../src/router/in-flight-set.js";

function entries(set: InFlightSet, count: number): (InFlight & { cancelled: boolean })[] {
  return Array.from({ length: count }, () => {
    const entry = {
      inFlightSlot: -1,
      cancelled: false,
      cancel() {
        entry.cancelled = true;
        set.delete(entry);
      },
    };
    set.add(entry);
    return entry;
  });
}

/** An entry the test made: never undefined. */
function held<T>(entry: T | undefined): T {
  if (entry === undefined) throw new Error("no such entry");
  return entry;
}

describe("InFlightSet", () => {
  it("removes any entry in any order, once, and ignores one it does not hold", async () => {
    const set = new InFlightSet();
    const all = entries(set, 4);
    const [a, b, c, d] = [held(all[0]), held(all[1]), held(all[2]), held(all[3])];
    expect(set.size).toBe(4);
    set.delete(b);
    set.delete(b);
    expect(set.size).toBe(3);
    const other = new InFlightSet();
    const stranger = held(entries(other, 1)[0]);
    // Its slot (0) is a slot of this set too: the entry there is not it.
    set.delete(stranger);
    expect(set.size).toBe(3);
    expect(other.size).toBe(1);
    set.delete(d);
    set.delete(a);
    expect(set.size).toBe(1);
    // What is left is c, and only c: cancelAll reaches it.
    expect(set.cancelAll()).toBe(1);
    expect(c.cancelled).toBe(true);
    expect(set.size).toBe(0);
    expect(await set.whenEmpty(0)).toBe(true);
  });

  it("drains: counts what finished by itself, cancels the rest at the deadline", async () => {
    const set = new InFlightSet();
    const all = entries(set, 5);
    const drained = set.drain(50);
    set.delete(all[3] as InFlight);
    set.delete(all[0] as InFlight);
    // Started after the drain began: not waited for, not cancelled.
    const [late] = entries(set, 1);
    expect(await drained).toEqual({ completed: 2, cancelled: 3 });
    expect(all.map((e) => e.cancelled)).toEqual([false, true, true, false, true]);
    expect(late?.cancelled).toBe(false);
    expect(set.size).toBe(1);
  });
});
