import { openWebSocket as open, type WebSocketClient } from "../../src/verify/websocket-client.js";

/** A WebSocket the tests opened, with the replica's hello already read. */
export interface OpenSocket extends WebSocketClient {
  readonly hello: string | null;
}

/** Opens a WebSocket to `url` and waits for the replica's hello. */
export async function openWebSocket(url: string): Promise<OpenSocket> {
  const client = await open(url);
  return { ...client, hello: await client.next() };
}
