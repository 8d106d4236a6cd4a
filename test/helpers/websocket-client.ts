import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";

/** A WebSocket the tests opened, with the colour that served its upgrade and the replica's hello. */
export interface OpenSocket {
  readonly socket: WebSocket;
  readonly colour: string | undefined;
  readonly hello: string;
  next(): Promise<string>;
}

/** Opens a WebSocket to `url` and waits for the replica's hello. */
export async function openWebSocket(url: string): Promise<OpenSocket> {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  const waiting: Array<(message: string) => void> = [];
  socket.on("message", (data) => {
    const message = String(data);
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const next = (): Promise<string> => {
    const message = messages.shift();
    return message === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(message);
  };
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    socket.once("upgrade", resolve);
    socket.once("error", reject);
  });
  const colour = response.headers["x-cutover-colour"];
  return { socket, colour: typeof colour === "string" ? colour : undefined, hello: await next(), next };
}
