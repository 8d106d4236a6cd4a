import { setTimeout as sleep } from "node:timers/promises";
import { epochNow } from "../clock.js";
import { openWebSocket, type WebSocketClient } from "../websocket-client.js";
import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { ensureWarmIdle, failedOf, failures, ms, underLoad } from "./fault-helpers.js";

/** How long the drill waits, at most, to see the old WebSocket closed by the drain. */
const MAX_CLOSE_WAIT_MS = 10_000;

/**
 * A WebSocket held across a switch: it keeps working on the old colour until the drain deadline closes
 * it; a WebSocket opened after the switch goes to the new colour.
 */
export const websocketHeld: Fault = {
  name: "websocket",
  async run({ target, settings, load }: FaultContext): Promise<FaultVerdict> {
    const url = `${target.listenUrl.replace(/^http/, "ws")}${settings.websocketPath}`;
    await ensureWarmIdle(target.driver);
    const { value, samples } = await underLoad(load(), async () => {
      const held = await open(url);
      const before = await held.exchange("before the switch", 5_000);
      if (before === null)
        throw new Error(`${url} did not answer a message; --websocket-path must name an echo endpoint`);
      // The drain starts at the switch, which happens after it is asked for: times are counted from the
      // asking, so a socket closed before its drain deadline can never look as if it had waited.
      const askedAt = epochNow();
      const switched = await target.driver.switchOver("switch");
      // The deadline is drainTimeout after the switch, which is done by now: a slow switch (a rollback
      // that starts its colour first) must not count against the drain.
      const switchedAt = epochNow();
      const reply = await held.exchange("after the switch", 5_000);
      const fresh = await open(url);
      fresh.socket.close();
      const wait = Math.min(target.drainTimeoutMs + 3_000, MAX_CLOSE_WAIT_MS);
      const closed = await Promise.race([held.closed, sleep(wait, null)]);
      held.socket.terminate();
      return { held, switched, askedAt, switchedAt, reply, fresh, closed };
    });
    const { held, switched, askedAt, switchedAt, reply, fresh, closed } = value;
    const failedSamples = failures(samples);
    const failed = failedSamples.length;
    const closedAfter = closed ? closed.at - askedAt : null;
    const checkClose = target.drainTimeoutMs + 3_000 <= MAX_CLOSE_WAIT_MS;
    const passed =
      switched.ok &&
      reply !== null &&
      fresh.colour === switched.expected &&
      held.colour === switched.from &&
      failed === 0 &&
      (!checkClose || (closed !== null && closed.at - switchedAt <= target.drainTimeoutMs + 3_000));
    return {
      expected: `a WebSocket opened on ${held.colour ?? "?"} before the switch still answers after it, until the drain deadline (drainTimeout ${target.drainTimeoutMs} ms) closes it; a new WebSocket goes to the new colour; no request fails`,
      happened: `switch ${switched.detail}; the held socket ${reply === null ? "did not answer" : `answered "${reply}"`} after the switch and ${closed ? `was closed (code ${closed.code}) ${ms(closedAfter)} after the switch was asked for` : `was still open after ${ms(Math.min(target.drainTimeoutMs + 3_000, MAX_CLOSE_WAIT_MS))}`}; a new socket went to ${fresh.colour ?? "?"}; ${failedOf(failedSamples, samples.length)}`,
      passed,
      samples,
      figures: {
        heldColour: held.colour,
        newColour: fresh.colour,
        repliedAfterSwitch: reply !== null,
        closedAfterMs: closedAfter,
        closedAfterSwitchedMs: closed ? closed.at - switchedAt : null,
        failed,
      },
    };
  },
};

/** Opens a WebSocket and leaves its greeting a moment to arrive, so the first exchange drops it. */
async function open(url: string): Promise<WebSocketClient> {
  const client = await openWebSocket(url);
  await sleep(100);
  return client;
}
