import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { epochNow } from "./clock.js";

/** A WebSocket with its messages queued in arrival order: the fault drill's and the tests' client. */
export interface WebSocketClient {
  readonly socket: WebSocket;
  /** The colour that answered the upgrade (x-cutover-colour), null when none said. */
  readonly colour: string | null;
  /** The next message not read yet; null when none comes within `timeoutMs` (no limit when not given). */
  next(timeoutMs?: number): Promise<string | null>;
  /** Sends `text` (after dropping what arrived unasked, such as a greeting) and waits for one answer. */
  exchange(text: string, timeoutMs: number): Promise<string | null>;
  /** When (epoch ms) and with which code the socket closed. */
  readonly closed: Promise<{ at: number; code: number }>;
}

/** Opens a WebSocket to `url`; resolves once it is open, rejects when the upgrade fails. */
export async function openWebSocket(url: string): Promise<WebSocketClient> {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  const waiting: Array<(message: string) => void> = [];
  socket.on("message", (data) => {
    const message = String(data);
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const next = (timeoutMs?: number): Promise<string | null> => {
    const message = messages.shift();
    if (message !== undefined) return Promise.resolve(message);
    return new Promise((resolve) => {
      const waiter = (m: string) => {
        clearTimeout(timer);
        resolve(m);
      };
      // A wait that timed out leaves the queue, so the message that comes later is kept for the next read.
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              waiting.splice(waiting.indexOf(waiter), 1);
              resolve(null);
            }, timeoutMs);
      waiting.push(waiter);
    });
  };
  const exchange = (text: string, timeoutMs: number): Promise<string | null> => {
    messages.length = 0;
    socket.send(text);
    return next(timeoutMs);
  };
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    socket.once("upgrade", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => undefined); // a close by a drain may come as an error; "close" follows
  const closed = new Promise<{ at: number; code: number }>((resolve) =>
    socket.once("close", (code) => resolve({ at: epochNow(), code })),
  );
  if (socket.readyState !== WebSocket.OPEN) await new Promise((resolve) => socket.once("open", resolve));
  const colour = response.headers["x-cutover-colour"];
  return { socket, colour: typeof colour === "string" ? colour : null, next, exchange, closed };
}
