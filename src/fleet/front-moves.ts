import type { Logger } from "pino";
import type { GlobalFront } from "../front/global-front.js";
import type { FleetRecord } from "./model/fleet-record.js";

/*
 * Taking a region out of the global front and putting it back, recorded on the region (`frontOut`), so that
 * whoever ends the fleet deploy (its runner after a halt, or `cutover abort` after the runner was killed)
 * puts back every region the deploy took out. Each wait is bounded by fleet.frontTimeout: a front that never
 * confirms (an endpoint Traffic Manager keeps finding Degraded) fails the move instead of hanging the runner.
 */

export interface FrontMoves {
  readonly front: GlobalFront;
  readonly record: FleetRecord;
  readonly save: () => void;
  readonly timeoutMs: number;
}

/** Takes `name` out; rejects with what the front said when it did not confirm in time. */
export async function takeOut(m: FrontMoves, name: string, signal: AbortSignal): Promise<void> {
  const region = m.record.regions[name];
  if (region) region.frontOut = true;
  m.save();
  await m.front.drain(name, bounded(signal, m.timeoutMs));
}

/** Puts `name` back, if this deploy took it out; returns why it could not, or null. */
export async function putBack(m: FrontMoves, name: string, signal?: AbortSignal): Promise<string | null> {
  const region = m.record.regions[name];
  if (!region?.frontOut) return null;
  try {
    await m.front.restore(name, bounded(signal, m.timeoutMs));
    region.frontOut = false;
    m.save();
    return null;
  } catch (error) {
    return `${name} could not be put back in the global front (${m.front.kind}): ${(error as Error).message}`;
  }
}

/**
 * After a halt: puts back every region the deploy took out (each with its own deadline: the halt's signal has
 * fired). One that cannot be put back is logged and said on its record, with what to do by hand.
 */
export async function putBackAll(m: FrontMoves, logger: Logger): Promise<void> {
  const out = Object.values(m.record.regions).filter((r) => r.frontOut);
  await Promise.all(
    out.map(async (region) => {
      const problem = await putBack(m, region.name);
      if (problem === null) return;
      logger.warn({ region: region.name, problem }, "region left out of the global front");
      region.reason = `${region.reason ? `${region.reason}; ` : ""}${problem}; put it back by hand (${handHint(m.front.kind, region.name)})`;
      m.save();
    }),
  );
}

function handHint(kind: string, region: string): string {
  return kind === "builtin"
    ? `POST /regions/${region}/restore on the front's admin API`
    : `enable the endpoint ${region} of the Traffic Manager profile: az network traffic-manager endpoint update --endpoint-status Enabled`;
}

function bounded(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const deadline = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}
