import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { epochNow } from "../clock.js";
import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { ensureWarmIdle, failures, ms, plural, underLoad } from "./fault-helpers.js";

/** How long the drill waits, at most, to see the old WebSocket closed by the drain. */
const MAX_CLOSE_WAIT_MS = 10_000;

interface HeldSocket {
  readonly socket: WebSocket;
  readonly colour: string | null;
  /** Sends `text` (after dropping what arrived unasked, such as a greeting) and waits for one answer. */
  exchange(text: string, timeoutMs: number): Promise<string | null>;
  readonly closed: Promise<{ at: number; code: number }>;
}

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
      const reply = await held.exchange("after the switch", 5_000);
      const fresh = await open(url);
      fresh.socket.close();
      const wait = Math.min(target.drainTimeoutMs + 3_000, MAX_CLOSE_WAIT_MS);
      const closed = await Promise.race([
        held.closed,
        new Promise<null>((r) => setTimeout(() => r(null), wait)),
      ]);
      held.socket.terminate();
      return { held, switched, askedAt, reply, fresh, closed };
    });
    const { held, switched, askedAt, reply, fresh, closed } = value;
    const failed = failures(samples).length;
    const closedAfter = closed ? closed.at - askedAt : null;
    const checkClose = target.drainTimeoutMs + 3_000 <= MAX_CLOSE_WAIT_MS;
    const passed =
      switched.ok &&
      reply !== null &&
      fresh.colour === switched.expected &&
      held.colour === switched.from &&
      failed === 0 &&
      (!checkClose || (closedAfter !== null && closedAfter <= target.drainTimeoutMs + 3_000));
    return {
      expected: `a WebSocket opened on ${held.colour ?? "?"} before the switch still answers after it, until the drain deadline (drainTimeout ${target.drainTimeoutMs} ms) closes it; a new WebSocket goes to the new colour; no request fails`,
      happened: `switch ${switched.detail}; the held socket ${reply === null ? "did not answer" : `answered "${reply}"`} after the switch and ${closed ? `was closed (code ${closed.code}) ${ms(closedAfter)} after the switch was asked for` : `was still open after ${ms(Math.min(target.drainTimeoutMs + 3_000, MAX_CLOSE_WAIT_MS))}`}; a new socket went to ${fresh.colour ?? "?"}; ${plural(failed, "request")} of ${samples.length} failed`,
      passed,
      samples,
      figures: {
        heldColour: held.colour,
        newColour: fresh.colour,
        repliedAfterSwitch: reply !== null,
        closedAfterMs: closedAfter,
        failed,
      },
    };
  },
};

async function open(url: string): Promise<HeldSocket> {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  const waiting: Array<(message: string) => void> = [];
  socket.on("message", (data) => {
    const message = String(data);
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  socket.on("error", () => undefined); // a close by the drain may come as an error; "close" follows
  const closed = new Promise<{ at: number; code: number }>((resolve) =>
    socket.once("close", (code) => resolve({ at: epochNow(), code })),
  );
  const exchange = (text: string, timeoutMs: number): Promise<string | null> => {
    messages.length = 0;
    socket.send(text);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  };
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    socket.once("upgrade", resolve);
    socket.once("error", reject);
  });
  if (socket.readyState !== WebSocket.OPEN) await new Promise((resolve) => socket.once("open", resolve));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const colour = response.headers["x-cutover-colour"];
  return { socket, colour: typeof colour === "string" ? colour : null, exchange, closed };
}
