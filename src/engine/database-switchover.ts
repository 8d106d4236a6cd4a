import type { Logger } from "pino";
import type { Colour } from "../colour.js";
import { formatDuration } from "../duration.js";
import { CutoverError } from "../errors.js";
import { type DatabaseSync, SWITCHOVER_HOLD } from "./ports/database-sync.js";
import type { SwitchResult, TrafficRouter } from "./ports/traffic-router.js";

export interface DatabaseSwitchover {
  readonly router: TrafficRouter;
  readonly sync: DatabaseSync;
  readonly logger: Logger;
  readonly deployId: string;
  /** Aborts before requests are held; absent for a way back, which must run even after an abort. */
  readonly signal?: AbortSignal;
}

/**
 * Moves traffic from `from` to `to` when each colour has its own database (database.sync: logical): new
 * requests are held at the router, those in flight on `from` finish, `to`'s database replays everything
 * `from`'s wrote and takes over its sequences, the replication turns round (so `from`'s database keeps
 * every later write, for a way back), traffic moves, and the held requests go to `to`. Past
 * database.switchoverTimeout, or on any error, everything is put back (`to`'s database follows `from`'s,
 * the prepared way back is dropped), the held requests go to `from`, which keeps serving and writing, and
 * this throws. Returns the switch and a phrase for the deploy record: how long requests were held.
 */
export async function switchWithDatabase(
  c: DatabaseSwitchover,
  from: Colour,
  to: Colour,
): Promise<{ result: SwitchResult; detail: string }> {
  const { router, sync, logger } = c;
  const hold = router.requestHold;
  if (hold === null)
    throw new CutoverError(
      "SYNC_NOT_STREAMING",
      "database.sync: logical needs a data plane that can hold requests during the switchover (the built-in router)",
    );
  const timeoutMs = sync.switchoverTimeoutMs;
  let prepared = false;
  let turned = false;
  let since: number | null = null;
  let done = false;
  const ours = () => since !== null && hold.holding()?.since === since;
  try {
    prepared = true; // what ready() made before it failed is dropped too (abandon drops what exists)
    await sync.ready(from, to);
    c.signal?.throwIfAborted();
    const deadline = Date.now() + timeoutMs;
    // The hold's own timeout is a safety net a little past ours: whatever happens, requests are released.
    await hold.hold(timeoutMs + 5_000, `${SWITCHOVER_HOLD} ${from} -> ${to}`);
    since = hold.holding()?.since ?? null;
    if (!(await hold.quiet(from, timeoutMs)))
      throw new CutoverError(
        "SWITCHOVER_TIMEOUT",
        `requests in flight on ${from} (a WebSocket counts) did not finish within database.switchoverTimeout (${formatDuration(timeoutMs)}); traffic and writes stay on ${from}`,
      );
    const caught = await sync.switchover(from, to, deadline);
    turned = true;
    // Released under us (its own timer), the held requests went to `from`, whose database no longer feeds
    // `to`'s: put the direction back rather than move traffic.
    if (!ours())
      throw new CutoverError(
        "SWITCHOVER_TIMEOUT",
        `the hold of new requests ended before the switch (after database.switchoverTimeout); traffic and writes stay on ${from}`,
      );
    const result = await router.switchTo(to);
    const released = await hold.release();
    done = true;
    await sync
      .afterSwitch(from, to)
      .catch((error: unknown) =>
        logger.warn({ err: (error as Error).message }, "dropping the old replication direction failed"),
      );
    logger.info(
      {
        deploy: c.deployId,
        from,
        to,
        heldMs: released.heldMs,
        held: released.held,
        caughtUpMs: caught.caughtUpMs,
      },
      "database switchover done",
    );
    const detail = `database switchover: requests held ${formatDuration(released.heldMs)} (${released.held} request(s)), ${to}'s database caught up in ${formatDuration(caught.caughtUpMs)}, ${caught.sequences} sequence(s) moved on`;
    return { result, detail };
  } finally {
    if (!done) {
      if (ours()) {
        const back = await hold.release();
        logger.warn(
          { deploy: c.deployId, from, to, heldMs: back.heldMs, held: back.held },
          `database switchover failed: held requests went to ${from}`,
        );
      }
      const warn = (what: string) => (error: unknown) =>
        logger.error({ err: (error as Error).message }, `database switchover failed, and ${what} failed too`);
      if (turned) await sync.undo(from, to).catch(warn("turning the replication back"));
      if (prepared) await sync.abandon(from, to).catch(warn("dropping the prepared way back"));
    }
  }
}
