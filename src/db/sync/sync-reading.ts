import { COLOURS, otherColour } from "../../colour.js";
import type { SyncReading, SyncSlot } from "../../engine/ports/database-sync.js";
import { applyErrors, slots, subscriptions } from "./replication-sql.js";
import type { SyncNames } from "./sync-names.js";
import type { SyncSide } from "./sync-side.js";

/** What a reading says when nothing follows: no direction, no lag. */
const NOTHING_FOLLOWS = {
  source: null,
  follower: null,
  lagBytes: null,
  lagSeconds: null,
  applyErrors: null,
} as const;

/** A reading of the database that could not be taken (a database did not answer). */
export function unreadable(readAt: string, problem: string): SyncReading {
  return { state: "stopped", ...NOTHING_FOLLOWS, slots: [], readAt, problem };
}

/**
 * Reads where the sync stands from both databases' catalogs: the enabled subscription (its direction,
 * copy state, lag and apply errors), and every slot of cutover's with whether a subscription still uses it.
 */
export async function readSync(
  sides: Readonly<Record<"blue" | "green", SyncSide>>,
  names: SyncNames,
  readAt: string,
): Promise<SyncReading> {
  const owns = (n: string) => names.owns(n);
  const subs = {
    blue: await subscriptions(sides.blue.client, owns),
    green: await subscriptions(sides.green.client, owns),
  };
  const slotRows = {
    blue: await slots(sides.blue.client, owns),
    green: await slots(sides.green.client, owns),
  };
  const slotList: SyncSlot[] = COLOURS.flatMap((database) =>
    slotRows[database].map((slot) => ({
      database,
      name: slot.name,
      active: slot.active,
      abandoned: !subs[otherColour(database)].some((sub) => sub.name === slot.name),
      retainedBytes: slot.retainedBytes,
    })),
  );
  for (const follower of COLOURS) {
    const source = otherColour(follower);
    const name = names.subscription(source, follower);
    const sub = subs[follower].find((row) => row.name === name && row.enabled);
    if (!sub) continue;
    const slot = slotRows[source].find((row) => row.name === name);
    return {
      state: sub.copying > 0 ? "copying" : slot?.active ? "streaming" : "disconnected",
      source,
      follower,
      lagBytes: slot?.lagBytes ?? null,
      lagSeconds: slot?.active ? (slot.lagSeconds ?? 0) : null,
      applyErrors: await applyErrors(sides[follower].client, name),
      slots: slotList,
      readAt,
    };
  }
  const disabled = COLOURS.find((c) =>
    subs[c].some((sub) => sub.name === names.subscription(otherColour(c), c)),
  );
  if (disabled === undefined) return { state: "stopped", ...NOTHING_FOLLOWS, slots: slotList, readAt };
  return {
    state: "disabled",
    ...NOTHING_FOLLOWS,
    source: otherColour(disabled),
    follower: disabled,
    slots: slotList,
    readAt,
  };
}
